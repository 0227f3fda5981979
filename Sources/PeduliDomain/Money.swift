/// Display helpers for messages.
public enum Money {
    /// `Rp 50.400` (Indonesian thousands separator).
    public static func rupiah(_ amount: Int64) -> String {
        let negative = amount < 0
        var digits = Array(String(amount.magnitude))
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(String(digits), at: 0)
        return "Rp \(negative ? "-" : "")\(groups.joined(separator: "."))"
    }

    /// `64 tahun 11 bulan`.
    public static func yearsMonths(_ months: Int) -> String {
        let y = months / 12, m = months % 12
        return m == 0 ? "\(y) tahun" : "\(y) tahun \(m) bulan"
    }
}
