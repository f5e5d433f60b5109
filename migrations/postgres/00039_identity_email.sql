-- +goose Up
-- An account's optional e-mail address (电子邮箱) and when the holder proved
-- it with a code sent there (NULL: not verified). Only a verified address
-- receives notices; changing it clears the verification.
ALTER TABLE identity_accounts ADD COLUMN email TEXT;
ALTER TABLE identity_accounts ADD COLUMN email_verified_at TIMESTAMP;

-- +goose Down
ALTER TABLE identity_accounts DROP COLUMN email_verified_at;
ALTER TABLE identity_accounts DROP COLUMN email;
