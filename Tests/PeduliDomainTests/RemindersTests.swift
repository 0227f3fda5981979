import Testing

@testable import PeduliDomain

struct RemindersTests {
    struct Sent: Equatable, CustomStringConvertible {
        let key: String
        let day: String
        var description: String { "\(key)@\(day)" }
    }

    /// Runs the scheduler once a day from `start` to `end` (before that day's payments, the worst
    /// case), keeping each key once as the database's unique (registration, kind, month) does.
    func simulate(
        acceptedOn: String, birth: String = "1980-03-12", paidThrough: String? = nil,
        payments: [String: Int] = [:], from start: String, to end: String,
        inspect: (Reminder, JakartaDate) -> Void = { _, _ in }
    ) -> [Sent] {
        var state = RegistrationReminderState(
            acceptedOn: date(acceptedOn), paidThrough: paidThrough.map(ym), birthDate: date(birth))
        var stored = Set<ReminderKey>()
        var log: [Sent] = []
        var day = date(start)
        while day <= date(end) {
            for r in remindersDue(for: state, on: day, config: config) where stored.insert(r.key).inserted {
                log.append(Sent(key: r.key.description, day: day.description))
                inspect(r, day)
                if r.kind == .membershipEnded { state.ended = true }
            }
            if let months = payments[day.description] {
                let range = Coverage.months(paidThrough: state.paidThrough, paidAtMonth: day.yearMonth, months: months)
                state.paidThrough = range.upperBound
            }
            day = day.adding(days: 1)
        }
        return log
    }

    @Test func prepaidPayerOverAYear() {
        var overdue: [Int] = []
        let log = simulate(
            acceptedOn: "2026-11-20",
            payments: ["2026-11-25": 3, "2027-02-10": 3, "2027-05-20": 3],
            from: "2026-11-20", to: "2027-12-31"
        ) { r, _ in
            if r.kind == .paymentOverdue {
                overdue.append(r.arrearsMonths!)
                #expect(r.amountDue == Int64(r.arrearsMonths!) * 16_800)
            }
        }
        #expect(
            log == [
                Sent(key: "reminder.payment_due/2027-02", day: "2027-02-08"),
                Sent(key: "reminder.payment_due/2027-05", day: "2027-05-08"),
                Sent(key: "reminder.payment_overdue/2027-05", day: "2027-05-16"),
                Sent(key: "reminder.payment_due/2027-08", day: "2027-08-08"),
                Sent(key: "reminder.payment_overdue/2027-08", day: "2027-08-16"),
                Sent(key: "reminder.payment_overdue/2027-09", day: "2027-09-16"),
                Sent(key: "reminder.payment_overdue/2027-10", day: "2027-10-16"),
                Sent(key: "membership.ended/2027-08", day: "2027-11-01"),
            ])
        #expect(overdue == [1, 1, 2, 3])
    }

    @Test func autodebetPayerOverAYear() {
        var payments: [String: Int] = [:]
        var m = ym("2026-12")
        while m <= ym("2027-11") {
            payments[m.firstDay.description] = 1
            m = m.adding(months: 1)
        }
        payments["2027-03-01"] = nil  // one failed debit
        payments["2027-04-01"] = 2  // caught up the next month
        let log = simulate(acceptedOn: "2026-11-20", payments: payments, from: "2026-11-20", to: "2027-11-30")
        #expect(
            log == [
                Sent(key: "reminder.payment_due/2026-11", day: "2026-11-27"),
                Sent(key: "reminder.payment_due/2027-03", day: "2027-03-08"),
                Sent(key: "reminder.payment_overdue/2027-03", day: "2027-03-16"),
            ])
    }

    @Test func neverPaid() {
        var seen: [Reminder] = []
        let log = simulate(acceptedOn: "2026-11-20", from: "2026-11-20", to: "2027-06-30") { r, _ in seen.append(r) }
        #expect(
            log == [
                Sent(key: "reminder.payment_due/2026-11", day: "2026-11-27"),
                Sent(key: "reminder.payment_overdue/2026-11", day: "2026-12-05"),
                Sent(key: "membership.ended/2026-11", day: "2027-02-20"),
            ])
        #expect(seen[0].dueDate == date("2026-12-04"))
        #expect(seen[0].dueMonth == ym("2026-12"))
        #expect(seen[1].arrearsMonths == 1)
        #expect(seen[1].membershipEndsAfter == date("2027-02-19"))
        #expect(seen[2].paidThrough == nil)
    }

    @Test func ageLimitStopsDueAndOverdue() {
        var last: YearMonth?
        let log = simulate(
            acceptedOn: "2025-06-01", birth: "1961-05-20", paidThrough: "2026-05",
            from: "2026-05-01", to: "2026-12-31"
        ) { r, _ in
            if r.kind == .ageLimit { last = r.lastCoverableMonth }
        }
        #expect(
            log == [
                Sent(key: "reminder.age_limit/2026-06", day: "2026-05-01"),
                Sent(key: "membership.ended/2026-06", day: "2026-09-01"),
            ])
        #expect(last == ym("2026-05"))
    }

    @Test func overdueStopsAtTheLastCoverableMonth() {
        let log = simulate(
            acceptedOn: "2025-06-01", birth: "1961-05-20", paidThrough: "2026-04",
            from: "2026-04-20", to: "2026-12-31")
        #expect(
            log == [
                Sent(key: "reminder.payment_due/2026-05", day: "2026-05-08"),
                Sent(key: "reminder.payment_overdue/2026-05", day: "2026-05-16"),
                Sent(key: "membership.ended/2026-05", day: "2026-08-01"),
            ])
    }

    /// Catch-up after downtime: a pass returns the current state of the chain only.
    @Test(arguments: [
        ("2027-08-07", [String]()),
        ("2027-08-08", ["reminder.payment_due/2027-08"]),
        ("2027-08-15", ["reminder.payment_due/2027-08"]),
        ("2027-08-16", ["reminder.payment_overdue/2027-08"]),
        ("2027-10-15", ["reminder.payment_overdue/2027-09"]),
        ("2027-10-20", ["reminder.payment_overdue/2027-10"]),
        ("2027-10-31", ["reminder.payment_overdue/2027-10"]),
        ("2027-11-01", ["membership.ended/2027-08"]),
        ("2028-05-05", ["membership.ended/2027-08"]),
    ])
    func catchUp(on: String, expected: [String]) {
        let state = RegistrationReminderState(
            acceptedOn: date("2026-11-20"), paidThrough: ym("2027-07"), birthDate: date("1980-03-12"))
        #expect(remindersDue(for: state, on: date(on), config: config).map(\.key.description) == expected)
    }

    @Test func catchUpOverdueCarriesAllArrears() throws {
        let state = RegistrationReminderState(
            acceptedOn: date("2026-11-20"), paidThrough: ym("2027-07"), birthDate: date("1980-03-12"))
        let r = try #require(remindersDue(for: state, on: date("2027-10-20"), config: config).first)
        #expect(r.arrearsMonths == 3)
        #expect(r.amountDue == 50_400)
        #expect(r.dueMonth == ym("2027-10"))
        #expect(r.dueDate == date("2027-10-15"))
        #expect(r.membershipEndsAfter == date("2027-10-31"))
        #expect(r.paidThrough == ym("2027-07"))
    }

    @Test func endedOrNotYetAcceptedGivesNothing() {
        let ended = RegistrationReminderState(
            acceptedOn: date("2026-11-20"), paidThrough: nil, birthDate: date("1980-03-12"), ended: true)
        #expect(remindersDue(for: ended, on: date("2026-12-01"), config: config).isEmpty)
        let future = RegistrationReminderState(
            acceptedOn: date("2026-11-20"), paidThrough: nil, birthDate: date("1980-03-12"))
        #expect(remindersDue(for: future, on: date("2026-11-19"), config: config).isEmpty)
    }
}
