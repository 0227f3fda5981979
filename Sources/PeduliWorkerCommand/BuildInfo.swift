/// What this build is: the one place the version lives, and the git commit it was built from.
///
/// `version` is the package version; `scripts/package` reads it from this line and names the Debian package
/// after it. `commit` stays "unknown" in the repository: `scripts/package` exports the committed tree (HEAD,
/// never the working tree) into `.build-release-static/source`, replaces this file's `commit` line there with
/// `git rev-parse --short HEAD` and builds that copy, so a packaged binary names exactly the commit it was
/// built from and no generated file is ever committed. A plain `swift build` reports "unknown".
enum BuildInfo {
    static let version = "0.14.0"
    static let commit = "unknown"

    /// `0.14.0 (3731dd2)`: what `--version` prints, the AMQP client properties' `version` and the labels of
    /// `peduli_build_info`.
    static var description: String { "\(version) (\(commit))" }
}
