// Package blob stores uploaded files (申请材料) by their content.
//
// A blob's key is the lower-case hex SHA-256 of its bytes, so storing the
// same file twice stores it once, and a key names exactly one content: a
// client that sends a digest with its upload can be checked against it
// (PutExpect), and stored files can be re-checked at any time (Verify).
//
// Put reads at most max bytes, sniffs the type from the content itself
// (never from a file name or a client's Content-Type) and refuses empty
// files, files over max, and types outside the allowed list. Every refusal
// is an *errs.Error of Kind errs.Invalid with a zh-CN Msg fit to show to the
// applicant. Keys from outside are checked (ValidKey) before they come near
// the file system, so a key can never name a path outside the store.
//
// Dir, the local implementation, keeps blob <sha> at root/ab/cd/<sha>
// (ab and cd being the first two byte pairs of the key). A Put writes to a
// temporary file under root/tmp, syncs it, and only then renames it into
// place and syncs the directory: after a crash a blob is either wholly
// there or absent; at worst a stray temporary file is left, which
// PurgeTemp removes. Concurrent Puts of the same content each write their
// own temporary file and rename it onto the same name; the rename is
// atomic and both files hold the same bytes, so either winner is right.
//
// Blobs are shared between everyone who uploads the same bytes, so Delete
// must only be called once nothing refers to the key any more; keeping that
// count is the caller's job.
package blob
