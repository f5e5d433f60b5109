package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// AddAgent authorises the person with idNumber and name to act for the
// enterprise account legal (经办人授权). The name must match the person's
// account, so a mistyped number cannot authorise a stranger.
func (s *Service) AddAgent(ctx context.Context, legal Account, idNumber, name string) (Agent, error) {
	const op = "identity.Service.AddAgent"
	if legal.Kind != Legal {
		return Agent{}, &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "只有法人账号可以授权经办人"}
	}
	p, err := s.AccountByIDNumber(ctx, idNumber)
	if err != nil || p.Kind != Person || p.Name != strings.TrimSpace(name) {
		// One message for "no account" and "wrong name": no enumeration.
		return Agent{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "未找到姓名与身份证号一致的个人账号，请经办人先注册",
			Fields: map[string]string{"id_number": "未找到姓名与身份证号一致的个人账号"}}
	}
	id := sqldb.NewID()
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_agents WHERE legal_id = $1 AND person_id = $2 AND revoked_at IS NULL`,
			legal.ID, p.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该经办人已获授权"}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_agents (id, legal_id, person_id, granted_at) VALUES ($1, $2, $3, $4)`,
			id, legal.ID, p.ID, s.now()); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.agent.grant", TargetType: "identity_account", TargetID: legal.ID,
			Detail: map[string]string{"person": p.ID}})
	})
	if err != nil {
		return Agent{}, err
	}
	return Agent{ID: id, LegalID: legal.ID, LegalName: legal.Name, LegalUSCC: legal.USCC, PersonID: p.ID, Name: p.Name, IDNumber: p.IDNumber}, nil
}

// RemoveAgent ends an authorisation of legal's; sessions acting on it
// return to acting for the person themselves.
func (s *Service) RemoveAgent(ctx context.Context, legal Account, agentID string) error {
	const op = "identity.Service.RemoveAgent"
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var person string
		err := tx.QueryRowContext(ctx, `SELECT person_id FROM identity_agents WHERE id = $1 AND legal_id = $2 AND revoked_at IS NULL`, agentID, legal.ID).Scan(&person)
		if err == sql.ErrNoRows {
			return &errs.Error{Kind: errs.NotFound, Op: op, Msg: "授权不存在或已解除"}
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_agents SET revoked_at = $1 WHERE id = $2`, s.now(), agentID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_sessions SET acting_for = '' WHERE account_id = $1 AND acting_for = $2`, person, legal.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.agent.revoke", TargetType: "identity_account", TargetID: legal.ID,
			Detail: map[string]string{"person": person}})
	})
}

const agentQuery = `SELECT g.id, g.legal_id, l.name, COALESCE(l.uscc, ''), g.person_id, p.name, COALESCE(p.id_number, ''), g.granted_at
	FROM identity_agents g JOIN identity_accounts l ON l.id = g.legal_id JOIN identity_accounts p ON p.id = g.person_id
	WHERE g.revoked_at IS NULL AND `

func (s *Service) agents(ctx context.Context, where, arg string) ([]Agent, error) {
	rows, err := s.db.R.QueryContext(ctx, agentQuery+where+` ORDER BY g.granted_at ASC`, arg)
	if err != nil {
		return nil, fmt.Errorf("identity.Service.agents: %w", err)
	}
	defer rows.Close()
	var out []Agent
	for rows.Next() {
		var g Agent
		if err := rows.Scan(&g.ID, &g.LegalID, &g.LegalName, &g.LegalUSCC, &g.PersonID, &g.Name, &g.IDNumber, &g.GrantedAt); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Agents lists the people authorised to act for the enterprise legalID.
func (s *Service) Agents(ctx context.Context, legalID string) ([]Agent, error) {
	return s.agents(ctx, `g.legal_id = $1`, legalID)
}

// Employers lists the enterprises the person personID may act for.
func (s *Service) Employers(ctx context.Context, personID string) ([]Agent, error) {
	return s.agents(ctx, `g.person_id = $1`, personID)
}

// ActAs makes the session of token act for the enterprise legalID ("" for
// the person themselves). The person must be its authorised agent.
func (s *Service) ActAs(ctx context.Context, token, legalID string) error {
	const op = "identity.Service.ActAs"
	se, a, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if legalID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_agents WHERE legal_id = $1 AND person_id = $2 AND revoked_at IS NULL`,
				legalID, a.ID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您未获得该单位的经办授权"}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_sessions SET acting_for = $1 WHERE id = $2`, legalID, se.ID); err != nil {
			return err
		}
		return audit.Write(audit.WithActor(ctx, actorFor(ctx, a, legalID)), tx, audit.Entry{Action: "identity.session.act", TargetType: "identity_account",
			TargetID: a.ID, Detail: map[string]string{"acting_for": legalID}})
	})
}

// Assurance is one step of an account's assurance history.
type Assurance struct {
	Level   Level
	Method  string
	StaffID string
	Note    string
	At      time.Time
}

// AssuranceHistory lists how an account reached its levels, oldest first.
func (s *Service) AssuranceHistory(ctx context.Context, accountID string) ([]Assurance, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT level, method, staff_id, note, at FROM identity_assurance WHERE account_id = $1 ORDER BY at ASC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("identity.Service.AssuranceHistory: %w", err)
	}
	defer rows.Close()
	var out []Assurance
	for rows.Next() {
		var a Assurance
		if err := rows.Scan(&a.Level, &a.Method, &a.StaffID, &a.Note, &a.At); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RaiseAssurance records that a clerk verified the holder of accountID in
// person at a window (窗口现场核验), raising the account to LevelCounter.
func (s *Service) RaiseAssurance(ctx context.Context, p *authz.Principal, accountID, note string) (Account, error) {
	const op = "identity.Service.RaiseAssurance"
	if !p.CanAny(authz.VerifyIdentity) {
		return Account{}, &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有现场核验身份的权限"}
	}
	a, err := s.Account(ctx, accountID)
	if err != nil {
		return Account{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET assurance = $1, assurance_method = $2, assurance_at = $3, updated_at = $3,
			version = version + 1 WHERE id = $4`, LevelCounter, MethodCounter, now, a.ID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_assurance (id, account_id, level, method, staff_id, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			sqldb.NewID(), a.ID, LevelCounter, MethodCounter, p.UserID, clip(note, 500), now); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.assurance.raise", TargetType: "identity_account", TargetID: a.ID,
			Detail: map[string]any{"from": a.Assurance, "to": LevelCounter, "method": MethodCounter}})
	})
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, a.ID)
}
