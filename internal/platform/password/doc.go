// Package password hashes and verifies passwords with argon2id and checks the
// policy for new passwords.
//
// Hashes are stored as PHC strings,
//
//	$argon2id$v=19$m=65536,t=1,p=4$<salt>$<key>
//
// with salt and key in unpadded standard base64, as in the reference
// implementation. Because the cost parameters travel with each hash, they can
// be raised later: [Hasher.Verify] reports needsRehash for a hash made with
// weaker parameters, and the caller stores a fresh [Hasher.Hash] after a
// successful sign-in.
//
// Each hash holds Params.Memory KiB for its duration, so a [Hasher] runs at
// most a fixed number of hashes at once and makes the rest wait, which bounds
// the memory an attacker can make the server allocate by sending sign-in
// requests.
package password
