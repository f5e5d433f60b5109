package identity

import (
	"context"
	"database/sql"
)

// ViaSSO is the sign-in history's "via" of a sign-in through the connected
// system clientID (单点登录).
func ViaSSO(clientID string) string { return "sso:" + clientID }

// recordSSO adds a successful sign-in through a connected system to the
// account's sign-in history, inside tx.
func (s *Service) recordSSO(ctx context.Context, tx *sql.Tx, accountID, clientID, ip, ua string) error {
	return s.history(ctx, tx, accountID, "ok", ViaSSO(clientID), ip, ua)
}
