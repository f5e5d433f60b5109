// Package errs is the project's error type: a Kind that decides what happens next, a zh-CN message for people, and the cause for logs.
package errs

import "errors"

// Kind says what should happen next. New kinds are only appended.
type Kind uint8

const (
	Internal        Kind = iota // unexpected: logged, generic page
	Invalid                     // bad input; see Fields
	NotFound                    // absent, or hidden from the caller
	Conflict                    // the state forbids it
	Forbidden                   // no grant covers the target
	Unauthenticated             // not signed in
	TooMany                     // rate-limited or locked out for a while
)

// Error is the project's error. Msg and Fields are shown to users; Op and Err only reach the log.
type Error struct {
	Kind   Kind
	Op     string
	Msg    string
	Fields map[string]string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Op + ": " + e.Msg
	}
	return e.Op + ": " + e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain; errors nobody classified are Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Code returns the machine-readable name of k, used in API problem bodies.
func (k Kind) Code() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case TooMany:
		return "too_many_requests"
	}
	return "internal"
}

// Message returns what a person should read about err: the Msg of its
// *Error, or a generic text for unclassified errors.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return "系统繁忙，请稍后再试"
}
