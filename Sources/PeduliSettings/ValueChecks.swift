/// Parsing and checking of values against their key's `ValueRule`.
///
/// The reader calls the `…(from:)` functions on text; the domain calls `check` on values it holds
/// already typed. Both throw the error built here, so one out-of-range value gives the same
/// `ConfigurationError` (code, key, value, expected) whichever layer sees it first; the reader
/// only adds where the value came from.
extension ConfigurationKey {
    /// The error for a value this key does not accept. A secret key's value is masked whole: the
    /// checks here cannot know which part of it is the password.
    public func invalid(_ value: String, expected: String, code: String = "invalid_value") -> ConfigurationError {
        ConfigurationError(code: code, key: name, value: isSecret ? "***" : value, expected: expected)
    }

    // MARK: Scalars

    /// An `.integer` key's value.
    public func integer(from text: String) throws(ConfigurationError) -> Int {
        guard let number = Int(text) else { throw invalid(text, expected: integerExpectation) }
        try check(number)
        return number
    }

    /// Checks a number an `.integer` key (or one item of an `.integers` key) may take.
    public func check(_ value: Int) throws(ConfigurationError) {
        switch rule {
        case .integer(let range) where !range.contains(value):
            throw invalid(String(value), expected: integerExpectation)
        case .integers(let range, let unit) where !range.contains(value):
            throw invalid(
                String(value), expected: "whole numbers of \(unit) from \(range.lowerBound) to \(range.upperBound)")
        case .integer, .integers:
            return
        default:
            preconditionFailure("\(name) is not an integer key")
        }
    }

    /// The same for a setting the domain holds as a `Double` (seconds as `TimeInterval`): a
    /// fraction inside the range is fine in code, although a file can only say whole numbers.
    public func check(_ value: Double) throws(ConfigurationError) {
        guard case .integer(let range) = rule else { preconditionFailure("\(name) is not an integer key") }
        guard value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            let whole = value.rounded() == value && abs(value) < 1e15
            throw invalid(whole ? String(Int(value)) : String(value), expected: integerExpectation)
        }
    }

    private var integerExpectation: String {
        guard case .integer(let range) = rule else { preconditionFailure("\(name) is not an integer key") }
        return "an integer from \(range.lowerBound) to \(range.upperBound)"
    }

    /// `true`/`false` and the usual spellings of them (`yes`, `no`, `on`, `off`, `1`, `0`).
    public func boolean(from text: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw invalid(text, expected: "true or false")
        }
    }

    /// One of a `.choice` key's words.
    public func choice(from text: String) throws(ConfigurationError) -> String {
        guard case .choice(let allowed) = rule else { preconditionFailure("\(name) is not a choice key") }
        guard allowed.contains(text) else { throw invalid(text, expected: "one of " + allowed.joined(separator: ", ")) }
        return text
    }

    /// A `.name` key's value: an AMQP short string without spaces.
    public func name(from text: String) throws(ConfigurationError) -> String {
        guard !text.isEmpty, text.utf8.count <= 255,
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw invalid(text, expected: "a name of 1 to 255 printable ASCII characters without spaces") }
        return text
    }

    /// `host:port`, `[v6]:port`; nil for empty (off).
    public func listen(from text: String) throws(ConfigurationError) -> (host: String, port: UInt16)? {
        if text.isEmpty { return nil }
        guard let address = Self.parseListen(text) else {
            throw invalid(text, expected: "host:port such as 127.0.0.1:9464 or [::1]:9464, or empty to turn it off")
        }
        return address
    }

    static func parseListen(_ text: String) -> (host: String, port: UInt16)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else { return nil }
        return (String(host), port)
    }

    /// Whether a `.urls` key accepts one URL; the caller redacts it before reporting
    /// `urlExpectation` (a URL carries a password the checks here cannot find).
    public func accepts(url: String) -> Bool {
        guard case .urls(let schemes) = rule else { preconditionFailure("\(name) is not a URL key") }
        return schemes.contains { url.hasPrefix($0 + "://") }
    }

    public var urlExpectation: String {
        guard case .urls(let schemes) = rule else { preconditionFailure("\(name) is not a URL key") }
        return "an " + schemes.map { $0 + "://" }.joined(separator: " or ") + " URL"
    }

    // MARK: Lists

    /// An `.integers` key's items: the valid ones, and an error for each other one and for none.
    public func integers(from items: [String]) -> (values: [Int], errors: [ConfigurationError]) {
        var values: [Int] = []
        var errors: [ConfigurationError] = []
        for item in items {
            do throws(ConfigurationError) {
                guard let number = Int(item) else { throw invalid(item, expected: integersExpectation) }
                try check(number)
                values.append(number)
            } catch {
                errors.append(error)
            }
        }
        if values.isEmpty { errors.append(noIntegers) }
        return (values, errors)
    }

    /// Checks the numbers an `.integers` key may take, as the domain holds them.
    public func check(_ values: [Int]) throws(ConfigurationError) {
        for value in values { try check(value) }
        if values.isEmpty { throw noIntegers }
    }

    private var integersExpectation: String {
        guard case .integers(let range, let unit) = rule else { preconditionFailure("\(name) is not an integer list") }
        return "whole numbers of \(unit) from \(range.lowerBound) to \(range.upperBound)"
    }

    private var noIntegers: ConfigurationError {
        guard case .integers(_, let unit) = rule else { preconditionFailure("\(name) is not an integer list") }
        return invalid("", expected: "at least one number of \(unit)")
    }

    /// A `.delays` key's items (`500ms`, `10s`, `1m`, `1h`); nil values when any item is not a delay.
    public func delays(from items: [String]) -> (values: [Duration]?, errors: [ConfigurationError]) {
        guard case .delays(let maximum) = rule else { preconditionFailure("\(name) is not a delay list") }
        var delays: [Duration] = []
        var errors: [ConfigurationError] = []
        for item in items {
            if let delay = Self.parseDelay(item, maximumMilliseconds: maximum) {
                delays.append(delay)
            } else {
                errors.append(
                    invalid(item, expected: "a delay such as 500ms, 10s, 1m or 1h (at most \(maximum / 3_600_000)h)"))
            }
        }
        guard errors.isEmpty else { return (nil, errors) }
        if zip(delays, delays.dropFirst()).contains(where: { $0 >= $1 }) {
            errors.append(invalid(items.joined(separator: ","), expected: "increasing delays"))
        }
        return (delays, errors)
    }

    /// A positive whole number and a unit, at most `maximumMilliseconds`.
    static func parseDelay(_ text: String, maximumMilliseconds: Int64) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, milliseconds) in units where text.hasSuffix(unit) {
            guard let value = Int64(text.dropLast(unit.count)), value > 0, value <= maximumMilliseconds / milliseconds
            else { return nil }
            return .milliseconds(value * milliseconds)
        }
        return nil
    }

    /// A `.rates` key's items: the well-formed ones, with an error for each other one and for the
    /// table's own problems (`checkRates`). `items` empty is the `empty` error.
    public func rates(from items: [String]) -> (values: [ConfigurationRate], errors: [ConfigurationError]) {
        var rates: [ConfigurationRate] = []
        var errors: [ConfigurationError] = []
        for item in items {
            if let rate = ConfigurationRate(item) {
                rates.append(rate)
            } else {
                errors.append(
                    invalid(
                        item,
                        expected:
                            "EFFECTIVE-DATE:AMOUNT such as 2019-12-02:16800 (a real date, a positive whole rupiah amount)"
                    ))
            }
        }
        if items.isEmpty { errors.append(noRates) }
        errors += rateProblems(rates)
        return (rates.sorted { $0.effectiveFrom < $1.effectiveFrom }, errors)
    }

    /// Checks a contribution table as the domain holds it: the same errors as `rates(from:)`.
    public func check(_ rates: [ConfigurationRate]) throws(ConfigurationError) {
        if rates.isEmpty { throw noRates }
        if let first = rateProblems(rates).first { throw first }
    }

    /// Amounts outside the range and dates that appear twice, in date order.
    private func rateProblems(_ rates: [ConfigurationRate]) -> [ConfigurationError] {
        guard case .rates(let range) = rule else { preconditionFailure("\(name) is not a rate table") }
        var errors: [ConfigurationError] = []
        let sorted = rates.sorted { $0.effectiveFrom < $1.effectiveFrom }
        for (index, rate) in sorted.enumerated() {
            if !range.contains(rate.monthlyAmount) {
                errors.append(
                    invalid(
                        rate.description,
                        expected: "a monthly amount from \(range.lowerBound) to \(range.upperBound) rupiah",
                        code: "bad_rate"))
            }
            if index > 0, sorted[index - 1].effectiveFrom == rate.effectiveFrom {
                errors.append(
                    invalid(rate.effectiveFrom, expected: "one rate per effective date", code: "duplicate_rate_date"))
            }
        }
        return errors
    }

    private var noRates: ConfigurationError {
        invalid("", expected: "at least one rate", code: "empty")
    }
}

/// One row of the contribution table as configured: `2019-12-02:16800`.
public struct ConfigurationRate: Sendable, Hashable, CustomStringConvertible {
    /// `YYYY-MM-DD` on the Jakarta calendar; a day that exists.
    public var effectiveFrom: String
    /// Whole rupiah a month.
    public var monthlyAmount: Int

    public init(effectiveFrom: String, monthlyAmount: Int) {
        self.effectiveFrom = effectiveFrom
        self.monthlyAmount = monthlyAmount
    }

    /// Parses `DATE:AMOUNT`: a real date and a whole number (its range is the key's to check).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let amount = Int(parts[1]), CalendarDateText.isValid(String(parts[0])) else {
            return nil
        }
        self.init(effectiveFrom: String(parts[0]), monthlyAmount: amount)
    }

    public var description: String { "\(effectiveFrom):\(monthlyAmount)" }
}

/// `YYYY-MM-DD` naming a Gregorian day that exists, in ASCII digits.
public enum CalendarDateText {
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}
