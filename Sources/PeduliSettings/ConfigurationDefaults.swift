/// The table's defaults, typed by the same parsing the reader applies to a file or the
/// environment. The settings structs, `PipelineConfiguration` and `ProgrammeConfiguration` take
/// their initial values from here, so a default is written once (in `ConfigurationKeys.all`) and
/// an empty configuration behaves exactly like code that never set the value.
///
/// A default its own rule rejects is a programming error: it stops the process at the first use,
/// and the test that loads an empty configuration finds it before anyone else does.
public enum ConfigurationDefaults {
    private static func text(of name: String) -> String {
        guard let text = ConfigurationKeys[name].defaultValue else { preconditionFailure("\(name) has no default") }
        return text
    }

    /// The items of a list default, split as the environment splits them.
    public static func list(_ name: String) -> [String] {
        text(of: name).split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    public static func integer(_ name: String) -> Int {
        do { return try ConfigurationKeys[name].integer(from: text(of: name)) } catch { invalidDefault(error) }
    }

    public static func boolean(_ name: String) -> Bool {
        do { return try ConfigurationKeys[name].boolean(from: text(of: name)) } catch { invalidDefault(error) }
    }

    /// `.choice`, `.name` and `.text` keys.
    public static func string(_ name: String) -> String {
        let key = ConfigurationKeys[name]
        do {
            switch key.rule {
            case .choice: return try key.choice(from: text(of: name))
            case .name: return try key.name(from: text(of: name))
            default: return text(of: name)
            }
        } catch {
            invalidDefault(error)
        }
    }

    public static func listen(_ name: String) -> (host: String, port: UInt16)? {
        do { return try ConfigurationKeys[name].listen(from: text(of: name)) } catch { invalidDefault(error) }
    }

    public static func integers(_ name: String) -> [Int] {
        let parsed = ConfigurationKeys[name].integers(from: list(name))
        if let error = parsed.errors.first { invalidDefault(error) }
        return parsed.values
    }

    public static func delays(_ name: String) -> [Duration] {
        let parsed = ConfigurationKeys[name].delays(from: list(name))
        guard let values = parsed.values, parsed.errors.isEmpty else { invalidDefault(parsed.errors[0]) }
        return values
    }

    public static func rates(_ name: String) -> [ConfigurationRate] {
        let parsed = ConfigurationKeys[name].rates(from: list(name))
        if let error = parsed.errors.first { invalidDefault(error) }
        return parsed.values
    }

    private static func invalidDefault(_ error: ConfigurationError) -> Never {
        preconditionFailure("the configuration table's default is invalid: \(error)")
    }
}

/// Checks that involve two keys. Shared for the same reason as `ConfigurationKey.check`: the
/// reader and the domain must reject the same combinations with the same error.
public enum ConfigurationRules {
    /// `rules.age_min_years`, in months, must not exceed `rules.age_max_months`.
    public static func checkAges(minimumYears: Int, maximumMonths: Int) throws(ConfigurationError) {
        if minimumYears * 12 > maximumMonths {
            throw ConfigurationKeys["rules.age_min_years"].invalid(
                String(minimumYears), expected: "at most rules.age_max_months (\(maximumMonths)) / 12")
        }
    }

    /// `report.baseline_covered` cannot exceed `report.baseline_informal_workers`.
    public static func checkBaseline(covered: Int, informalWorkers: Int) throws(ConfigurationError) {
        if covered > informalWorkers {
            throw ConfigurationKeys["report.baseline_covered"].invalid(
                String(covered), expected: "at most report.baseline_informal_workers (\(informalWorkers))")
        }
    }

    /// `worker.batch_size` above `worker.prefetch` is a batch that can never fill.
    public static func checkBatch(size: Int, prefetch: Int) throws(ConfigurationError) {
        if size > prefetch {
            throw ConfigurationKeys["worker.batch_size"].invalid(
                String(size), expected: "at most worker.prefetch (\(prefetch)), or a batch can never fill")
        }
    }
}
