/// The configuration key table and its error type are part of the domain's API:
/// `ProgrammeConfiguration.validate`, `ContributionRates` and `Catalogues` throw
/// `ConfigurationError`, and their defaults come from `ConfigurationKeys`. Re-exported so that
/// code importing the domain names them as it did when the error type lived here.
@_exported import PeduliSettings

extension ConfigurationError {
    /// A problem in a catalogue file (`kecamatan.csv:4`): the knob is `catalogues.directory`,
    /// the file and line say where to look.
    init(code: String, file: String, line: Int? = nil, detail: String) {
        self.init(
            code: code, key: "catalogues.directory", value: nil, expected: detail,
            origin: .file(path: file, line: line))
    }
}
