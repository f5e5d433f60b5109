package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/sqldb"
)

// Signing keys. ID tokens are signed RS256 (what every client library
// verifies). The newest key starts signing keyPublishLead after it was made,
// so every node has published it in the JWKS first; the key it replaces
// stays published for KeyRetention, long after the tokens it signed expired.

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

type privateKey struct {
	id      string
	alg     jose.SignatureAlgorithm
	key     *rsa.PrivateKey
	created time.Time
}

func (k *privateKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *privateKey) Key() any                                    { return k.key }
func (k *privateKey) ID() string                                  { return k.id }

type keyCache struct {
	loaded  time.Time
	signing *privateKey
	public  []op.Key
}

// kek is the key-encryption key derived from the configured secret.
func (o *OIDC) kek() []byte {
	if o.set.Secret == "" {
		return nil
	}
	k := sha256.Sum256([]byte("yiwang oidc signing keys\x00" + o.set.Secret))
	return k[:]
}

func sealKey(kek []byte, id string, plain []byte) (string, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte(id))), nil
}

func openKey(kek []byte, id, sealed string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(b) < gcm.NonceSize() {
		return nil, errors.New("sealed key too short")
	}
	return gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(id))
}

// signingKey returns the key that signs now, reloading the keys every
// keyCacheTTL and rotating when the newest key is older than KeyRotation.
func (o *OIDC) signingKey(ctx context.Context) (*privateKey, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.loadKeysLocked(ctx, false); err != nil {
		return nil, err
	}
	return o.keys.signing, nil
}

func (o *OIDC) publicKeys(ctx context.Context) ([]op.Key, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.loadKeysLocked(ctx, false); err != nil {
		return nil, err
	}
	return o.keys.public, nil
}

// RotateKey makes a new signing key now (yiwang oidc key rotate); it signs
// once published, and the current one stays published for KeyRetention.
func (o *OIDC) RotateKey(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id, err := o.addKeyLocked(ctx)
	if err != nil {
		return "", err
	}
	o.keys = keyCache{}
	return id, o.loadKeysLocked(ctx, true)
}

func (o *OIDC) loadKeysLocked(ctx context.Context, force bool) error {
	const op = "identity.OIDC.loadKeys"
	now := o.now()
	if !force && o.keys.signing != nil && now.Sub(o.keys.loaded) < keyCacheTTL && now.After(o.keys.loaded.Add(-time.Second)) {
		return nil
	}
	for attempt := 0; ; attempt++ {
		rows, err := o.db.R.QueryContext(ctx, `SELECT id, alg, private_key, enc, public_jwk, created_at FROM oidc_keys
			WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at ASC, id ASC`, now)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		var kc keyCache
		var newest, usable *privateKey
		for rows.Next() {
			var id, alg, priv, enc, pub string
			var created time.Time
			if err := rows.Scan(&id, &alg, &priv, &enc, &pub, &created); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", op, err)
			}
			var jwk jose.JSONWebKey
			if err := jwk.UnmarshalJSON([]byte(pub)); err != nil {
				rows.Close()
				return fmt.Errorf("%s: key %s: %w", op, id, err)
			}
			kc.public = append(kc.public, publicKey{id: id, alg: jose.SignatureAlgorithm(alg), key: jwk.Key})
			k, err := o.decodePrivate(id, alg, priv, enc, created)
			if err != nil {
				continue // sealed under another secret: published, never used to sign
			}
			newest = k
			if !created.After(now.Add(-keyPublishLead)) {
				usable = k
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if newest == nil || (attempt == 0 && !newest.created.After(now.Add(-o.set.KeyRotation))) {
			if attempt > 0 {
				return fmt.Errorf("%s: no usable signing key", op)
			}
			if _, err := o.addKeyLocked(ctx); err != nil {
				return err
			}
			continue
		}
		if usable == nil {
			usable = newest // first key ever: nothing older to sign with
		}
		kc.signing, kc.loaded = usable, now
		o.keys = kc
		return nil
	}
}

func (o *OIDC) decodePrivate(id, alg, priv, enc string, created time.Time) (*privateKey, error) {
	var der []byte
	var err error
	switch enc {
	case "none":
		der, err = base64.StdEncoding.DecodeString(priv)
	case "aes-gcm":
		kek := o.kek()
		if kek == nil {
			return nil, errors.New("no secret configured")
		}
		der, err = openKey(kek, id, priv)
	default:
		err = fmt.Errorf("unknown key encryption %q", enc)
	}
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return &privateKey{id: id, alg: jose.SignatureAlgorithm(alg), key: rk, created: created}, nil
}

// addKeyLocked makes and stores a new RS256 key and schedules the removal
// of the keys it supersedes.
func (o *OIDC) addKeyLocked(ctx context.Context) (string, error) {
	const op = "identity.OIDC.addKey"
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	id := sqldb.NewID()
	enc, stored := "none", base64.StdEncoding.EncodeToString(der)
	if kek := o.kek(); kek != nil {
		if stored, err = sealKey(kek, id, der); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		enc = "aes-gcm"
	}
	pub, err := (&jose.JSONWebKey{Key: &rk.PublicKey, KeyID: id, Algorithm: string(jose.RS256), Use: "sig"}).MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	now := o.now()
	err = sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_keys SET expires_at = $1 WHERE expires_at IS NULL`,
			now.Add(keyPublishLead+o.set.KeyRetention)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_keys (id, alg, private_key, enc, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, string(jose.RS256), stored, enc, string(pub), now); err != nil {
			return err
		}
		return audit.Write(audit.WithActor(ctx, audit.System), tx, audit.Entry{Action: "identity.oidc.key.rotate", TargetType: "oidc_key", TargetID: id,
			Detail: map[string]string{"alg": string(jose.RS256), "encryption": enc}})
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return id, nil
}
