// Package cases holds applications (办件): a case filed online by an
// applicant or registered at a hall window by a clerk, moved by an explicit
// state machine (Next) through acceptance, correction (补正), review,
// special procedures (特别程序), extension and decision, on a clock of
// working days from the calendar. Every transition is an event carrying
// its national status code (domain-rules §11).
//
// Layer 3: cases uses org, calendar, catalog (the item and the version it
// was filed under) and identity (the applicant); nothing below uses cases.
package cases
