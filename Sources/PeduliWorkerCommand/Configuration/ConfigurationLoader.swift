import AMQPClient
import Foundation
import PeduliSettings
import Yams

/// A value before it is typed: one string, or a list (YAML sequence, or comma-separated text).
enum RawValue: Sendable, Equatable {
    case scalar(String)
    case list([String])
}

struct RawEntry: Sendable, Equatable {
    var value: RawValue
    var origin: ConfigurationOrigin
}

/// The effective flat key space after every source has been applied.
struct RawConfiguration: Sendable {
    var entries: [String: RawEntry] = [:]
    /// The configuration file that was read, if any.
    var filePath: String?
}

/// Assembles the flat key space from its sources. Later sources win:
///
/// 1. defaults (`ConfigurationKeys`);
/// 2. the YAML file: `--config PATH`, else `$PEDULI_CONFIG`, else the first of
///    `/etc/peduli-worker/config.yaml` and `config.yml` that exists, else none;
/// 3. the environment: `PEDULI_` + key upper-cased with `_` for `.` (this is also where
///    `PEDULI_AMQP_URL` and `PEDULI_DATABASE_URL` come in: they are `amqp.url` and `database.url`);
/// 4. credential files: `$CREDENTIALS_DIRECTORY/amqp_url` and `database_url` (systemd
///    `LoadCredential=`), then `PEDULI_AMQP_URL_FILE` / `PEDULI_DATABASE_URL_FILE`, which name a
///    file explicitly and so win over the directory.
///
/// Unknown keys in the file are errors; unknown `PEDULI_*` variables are not (the environment is shared with
/// other tools), but `unknownEnvironmentVariables()` names them for `check-config` and `run` to warn about.
struct ConfigurationLoader {
    var environment: [String: String]
    /// The locations tried when neither `--config` nor `PEDULI_CONFIG` is given.
    var defaultFiles: [String] = ["/etc/peduli-worker/config.yaml", "/etc/peduli-worker/config.yml"]

    /// Secret keys that may come from credential files, with the file name systemd uses.
    static let credentials: [(key: String, file: String, variable: String)] = [
        ("amqp.url", "amqp_url", "PEDULI_AMQP_URL_FILE"),
        ("database.url", "database_url", "PEDULI_DATABASE_URL_FILE"),
    ]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// `PEDULI_*` variables that are not a key's but mean something to the worker or its tools.
    static let otherVariables = Set(
        ["PEDULI_CONFIG", "PEDULI_AMQP_PORT", "PEDULI_PG_PORT", "PEDULI_STATE_DIR"] + credentials.map(\.variable))
    /// Prefixes of the test suite's variables.
    static let otherPrefixes = ["PEDULI_TEST_"]

    /// One warning per `PEDULI_*` variable that names no key, with the nearest key's variable when one is
    /// close: a mistyped `PEDULI_WORKER_PREFECTH` would otherwise be ignored without a word.
    func unknownEnvironmentVariables() -> [String] {
        let known = Set(ConfigurationKeys.all.map(\.environmentName)).union(Self.otherVariables)
        return environment.keys.sorted().compactMap { name -> String? in
            guard name.hasPrefix("PEDULI_"), !known.contains(name),
                !Self.otherPrefixes.contains(where: name.hasPrefix)
            else { return nil }
            let hint = ConfigurationKeys.suggestion(forEnvironmentName: name).map {
                "; did you mean \(ConfigurationKeys[$0].environmentName) (key \($0))?"
            }
            return "environment variable \(name) names no configuration key and is ignored\(hint ?? "")"
        }
    }

    /// The file to read, or nil when there is none; an explicit path must exist.
    func configurationFilePath(explicit: String?) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["PEDULI_CONFIG"], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultFiles.first { FileManager.default.fileExists(atPath: $0) }
    }

    func load(configPath explicit: String?) throws(ConfigurationErrors) -> RawConfiguration {
        var raw = RawConfiguration()
        var errors: [ConfigurationError] = []

        for key in ConfigurationKeys.all {
            if let value = key.defaultValue {
                raw.entries[key.name] = RawEntry(
                    value: key.isList ? .list(Self.splitList(value)) : .scalar(value), origin: .defaultValue)
            }
        }

        if let path = configurationFilePath(explicit: explicit) {
            raw.filePath = path
            do {
                let text = try Self.readFile(path)
                for (key, entry) in try Self.flatten(yaml: text, path: path) {
                    raw.entries[key] = entry
                }
            } catch let error as ConfigurationErrors {
                errors += error.errors
            } catch {
                errors.append(
                    ConfigurationError(
                        code: "unreadable_file", key: nil, value: "configuration file \(path)",
                        expected: "cannot be read (\(Self.reason(error)))", origin: .file(path: path, line: nil)))
            }
        }

        for key in ConfigurationKeys.all {
            let name = key.environmentName
            guard let text = environment[name] else { continue }
            raw.entries[key.name] = RawEntry(
                value: key.isList ? .list(Self.splitList(text)) : .scalar(text), origin: .environment(name: name))
        }

        // The data keys travel as a file of their own: the systemd credential `data_keys` is the key file itself.
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let path = (directory as NSString).appendingPathComponent("data_keys")
            if FileManager.default.fileExists(atPath: path) {
                raw.entries["security.data_keys_file"] = RawEntry(value: .scalar(path), origin: .credential(path: path))
            }
        }

        for credential in Self.credentials {
            var sources: [String] = []
            if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
                let path = (directory as NSString).appendingPathComponent(credential.file)
                if FileManager.default.fileExists(atPath: path) { sources.append(path) }
            }
            if let path = environment[credential.variable], !path.isEmpty { sources.append(path) }
            for path in sources {
                do {
                    let text = try Self.readFile(path).trimmingCharacters(in: .whitespacesAndNewlines)
                    let isList = ConfigurationKeys.byName[credential.key]?.isList ?? false
                    raw.entries[credential.key] = RawEntry(
                        value: isList ? .list(Self.splitList(text)) : .scalar(text), origin: .credential(path: path))
                } catch {
                    errors.append(
                        ConfigurationError(
                            code: "unreadable_file", key: credential.key, value: "credential file \(path)",
                            expected: "cannot be read (\(Self.reason(error)))", origin: .credential(path: path)))
                }
            }
        }

        if !errors.isEmpty { throw ConfigurationErrors(errors: errors) }
        return raw
    }

    /// Splits `a, b,,c` into `["a", "b", "c"]`: blanks around commas and empty items are dropped.
    /// Commas separate items, except inside a URL's password (`URLList`).
    static func splitList(_ text: String) -> [String] {
        URLList.split(text).filter { !$0.isEmpty }
    }

    static func readFile(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw CocoaError(.fileReadInapplicableStringEncoding)
        }
        return text
    }

    private static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileReadNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            case .fileReadInapplicableStringEncoding: return "not UTF-8"
            default: break
            }
        }
        if let posix = error as? POSIXError { return posix.code == .ENOENT ? "no such file" : "\(posix.code)" }
        return "I/O error"
    }

    // MARK: - YAML

    /// Turns nested mappings into dotted keys. Every key must be known; a YAML `null` (`key:` or
    /// `~`) means "not set here". Sequences are allowed only for list keys.
    static func flatten(yaml: String, path: String) throws(ConfigurationErrors) -> [String: RawEntry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationErrors(errors: [
                ConfigurationError(
                    code: "invalid_yaml", key: nil, value: "configuration file \(path)",
                    expected: "is not valid YAML (\(yamlProblem(error)))", origin: .file(path: path, line: nil))
            ])
        }
        guard let root else { return [:] }
        var entries: [String: RawEntry] = [:]
        var errors: [ConfigurationError] = []
        guard case .mapping = root else {
            throw ConfigurationErrors(errors: [
                ConfigurationError(
                    code: "wrong_shape", key: nil, value: nil,
                    expected: "must be a mapping of keys to values",
                    origin: .file(path: path, line: root.mark?.line))
            ])
        }
        walk(root, prefix: "", path: path, entries: &entries, errors: &errors)
        if !errors.isEmpty { throw ConfigurationErrors(errors: errors) }
        return entries
    }

    private static func walk(
        _ node: Node, prefix: String, path: String,
        entries: inout [String: RawEntry], errors: inout [ConfigurationError]
    ) {
        let origin = ConfigurationOrigin.file(path: path, line: node.mark?.line)
        switch node {
        case .mapping(let mapping):
            for (keyNode, valueNode) in mapping {
                guard let name = keyNode.string, !name.isEmpty else {
                    errors.append(
                        ConfigurationError(
                            code: "wrong_shape", key: prefix.isEmpty ? nil : prefix, value: nil,
                            expected: "mapping keys must be plain names",
                            origin: .file(path: path, line: keyNode.mark?.line)))
                    continue
                }
                walk(
                    valueNode, prefix: prefix.isEmpty ? name : prefix + "." + name, path: path,
                    entries: &entries, errors: &errors)
            }
        case .scalar, .sequence, .alias:
            guard let key = ConfigurationKeys.byName[prefix] else {
                let hint = ConfigurationKeys.suggestion(for: prefix).map { "did you mean '\($0)'?" }
                errors.append(
                    ConfigurationError(
                        code: "unknown_key", key: prefix, value: nil,
                        expected: hint ?? "not a configuration key (see config/peduli-worker.example.yaml)",
                        origin: origin))
                return
            }
            if node.null != nil { return }
            switch node {
            case .scalar(let scalar):
                entries[prefix] = RawEntry(
                    value: key.isList ? .list(splitList(scalar.string)) : .scalar(scalar.string), origin: origin)
            case .sequence(let sequence) where key.isList:
                var items: [String] = []
                for item in sequence {
                    guard case .scalar(let scalar) = item else {
                        errors.append(
                            ConfigurationError(
                                code: "wrong_shape", key: prefix, value: nil,
                                expected: "a list of plain values", origin: origin))
                        return
                    }
                    items.append(scalar.string)
                }
                entries[prefix] = RawEntry(value: .list(items), origin: origin)
            default:
                errors.append(
                    ConfigurationError(
                        code: "wrong_shape", key: prefix, value: nil,
                        expected: key.isList ? "a list of plain values" : "a single value, not a list or mapping",
                        origin: origin))
            }
        }
    }

    /// The problem and position only: Yams' own description quotes the text, which may hold a secret.
    private static func yamlProblem(_ error: any Error) -> String {
        guard let yamlError = error as? YamlError else { return "unreadable" }
        switch yamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "duplicate key \(duplicates.joined(separator: ", ")) at line \(context.mark.line)"
        case .reader(let problem, _, _, _):
            return problem
        default:
            return "unreadable"
        }
    }
}
