// Package calendar is the working-day calendar (工作日历): which dates are
// statutory holidays (法定节假日) and make-up working days (调休上班日) under
// the State Council's yearly schedule, and the deadline arithmetic built on
// it: "N working days after D" and "N natural days after D" (承诺时限,
// 法定时限), and the working days between two dates for case clocks.
//
// Layer: bottom (with org). It imports only platform packages and ui.
//
// Invariants:
//   - A year is known only when its national schedule is loaded
//     (calendar_years). Asking about a date in any other year is an Invalid
//     error naming the known years, never a guess from the weekday rule.
//   - A working day is a Monday to Friday that is not a holiday, or a
//     make-up working day. Counting N working days after D starts on the day
//     after D; N = 0 gives D itself when it is a working day, otherwise the
//     next working day (即办件 are due the day they are accepted, or the next
//     working day when accepted on a day off).
//   - Region-specific days (地方性节假日) apply to their region and every
//     region nested in it (GB/T 2260 prefix, as authz.RegionPrefix), on top
//     of the national days; the most specific region wins for a date.
//   - The embedded official schedules are loaded at start-up, a year at a
//     time when its data version changes; days an administrator edited or
//     deleted are never overwritten (the edited flag; deletions of loaded
//     days are kept as tombstones).
//   - Every change is checked against the caller's grants and audited in the
//     same transaction; the in-memory Schedule is rebuilt after each change
//     and re-read from the database at most MaxAge later on other nodes.
package calendar
