import Testing

@testable import PeduliDomain

struct NameTests {
    @Test(arguments: [
        ("Siti Aminah", "Siti Aminah"),
        ("  Siti   Aminah ", "Siti Aminah"),
        ("Siti\tAminah\n", "Siti Aminah"),
        ("O'Neil-Smith, Jr.", "O'Neil-Smith, Jr."),
        ("Ñoño Pérez", "Ñoño Pérez"),
        ("محمد", "محمد"),
        ("ꦱꦶꦠꦶ", "ꦱꦶꦠꦶ"),
        ("张伟", "张伟"),
        ("A", "A"),
        (String(repeating: "a", count: 100), String(repeating: "a", count: 100)),
    ])
    func accepts(text: String, expected: String) {
        #expect(PersonName.normalise(text) == expected)
    }

    @Test(arguments: [
        "", "   ", "Siti2", "Siti@Aminah", "Siti 😀", String(repeating: "a", count: 101), "Siti_Aminah", "\u{0301}a",
    ])
    func rejects(text: String) {
        #expect(PersonName.normalise(text) == nil)
    }
}
