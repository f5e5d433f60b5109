package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"yiwang/internal/catalog"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// Limits of uploaded materials. A request body is at most 8 MiB
// (web.Wrap), so a material is uploaded one file a request.
const (
	MaxMaterialSize = 5 << 20 // bytes in one file
	MaxMaterials    = 50      // files with one case
)

// Uploadable reports whether the applicant may add materials to c now: to
// a draft, during a correction (补正), and while 容缺 materials are owed.
func (c Case) Uploadable() bool {
	return c.State == Draft || c.State == Correcting || len(c.Outstanding) > 0 && !c.State.Final()
}

// MaterialNames are the names a material of c may be uploaded under: the
// item's materials and attachment fields, then what a correction asked for
// and the 容缺 materials owed, without repeats.
func MaterialNames(c Case, it catalog.Item) []string {
	var out []string
	add := func(n string) {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, m := range it.Materials {
		add(m.Name)
	}
	for _, f := range it.Form {
		if f.Type == catalog.FieldAttachment {
			add(f.Label)
		}
	}
	if c.State == Correcting {
		for _, n := range c.FixItems {
			add(n)
		}
	}
	for _, n := range c.Outstanding {
		add(n)
	}
	return out
}

// uploadNames are the names c's materials may have now, from the item as
// published (an item withdrawn since allows the correction's and 容缺
// names only).
func (s *Service) uploadNames(ctx context.Context, c Case) ([]string, error) {
	_, it, err := s.items.Published(ctx, c.ItemCode)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return nil, err
	}
	return MaterialNames(c, it), nil
}

// AttachMaterial records b, a file already in the blob store, as the
// material name of the applicant's case id, while c.Uploadable and under
// one of its MaterialNames. The row and its audit entry are written in one
// transaction, which first locks the case row; the case's version does not
// change, so a form the applicant has open elsewhere stays current.
func (s *Service) AttachMaterial(ctx context.Context, ap Applicant, id, name string, b blob.Blob) (Material, error) {
	const op = "cases.Service.AttachMaterial"
	name = strings.TrimSpace(name)
	c, err := s.own(ctx, s.db.R, ap, id)
	if err != nil {
		return Material{}, err
	}
	m, err := s.newMaterial(ctx, c, name, b, op)
	if err != nil {
		return Material{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := s.lockOwn(ctx, tx, ap, id)
		if err != nil {
			return err
		}
		if !c.Uploadable() {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("办件当前为“%s”，不能再上传材料", StateLabels[c.State])}
		}
		return insertMaterial(ctx, tx, c, m, "account:"+ap.Account.ID)
	})
	if err != nil {
		return Material{}, err
	}
	return m, nil
}

// newMaterial is stored file b as material name of c, if b is a valid
// stored file and name one of c's MaterialNames.
func (s *Service) newMaterial(ctx context.Context, c Case, name string, b blob.Blob, op string) (Material, error) {
	if !blob.ValidKey(b.Key) || b.SHA256 != b.Key || b.Size <= 0 {
		return Material{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "文件标识无效，请重新上传"}
	}
	names, err := s.uploadNames(ctx, c)
	if err != nil {
		return Material{}, err
	}
	if !slices.Contains(names, name) {
		return Material{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请选择要上传的是哪一项材料", Fields: map[string]string{"name": "请选择材料名称"}}
	}
	return Material{ID: sqldb.NewID(), Name: name, BlobKey: b.Key, SHA256: b.SHA256, Size: b.Size, ContentType: b.ContentType, CreatedAt: s.now()}, nil
}

// insertMaterial records m with c (locked in tx) for whoever added it, with
// its audit entry, unless c holds MaxMaterials files already.
func insertMaterial(ctx context.Context, tx *sql.Tx, c Case, m Material, by string) error {
	const op = "cases.insertMaterial"
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_materials WHERE case_id = $1`, c.ID).Scan(&n); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n >= MaxMaterials {
		return &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("每件最多上传%d个材料文件，请删除多余的文件后再上传", MaxMaterials)}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_materials (id, case_id, name, blob_key, sha256, size, content_type, paper_checked, added_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, m.ID, c.ID, m.Name, m.BlobKey, m.SHA256, m.Size, m.ContentType, false, by, m.CreatedAt); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return audit.Write(ctx, tx, audit.Entry{Action: "cases.material.add", TargetType: "case", TargetID: c.ID, Region: c.Region, DeptPath: c.DeptPath,
		Detail: map[string]any{"material": m.ID, "name": m.Name, "sha256": m.SHA256, "size": m.Size}})
}

// Scannable reports whether staff member p may add scanned materials to c
// now: while it is open, as intake for its implementing department (the
// window scanning what a walk-in brought) or as a handler where it is.
func Scannable(p *authz.Principal, c Case) bool {
	return c.State.Open() && (p.Can(authz.AcceptCases, c.Target()) || p.Can(authz.HandleCases, c.AtTarget()))
}

// ScanMaterial records b, a file already in the blob store, as material
// name of case id, scanned by staff member p (Scannable), under one of the
// case's MaterialNames; like AttachMaterial it leaves the case's version.
func (s *Service) ScanMaterial(ctx context.Context, p *authz.Principal, id, name string, b blob.Blob) (Material, error) {
	const op = "cases.Service.ScanMaterial"
	name = strings.TrimSpace(name)
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return Material{}, err
	}
	m, err := s.newMaterial(ctx, c, name, b, op)
	if err != nil {
		return Material{}, err
	}
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET version = version WHERE id = $1`, id); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		c, err := getCase(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		if !c.VisibleTo(p) {
			return errNoCase
		}
		if !Scannable(p, c) {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("办件当前为“%s”，您不能再为其上传材料", StateLabels[c.State])}
		}
		return insertMaterial(ctx, tx, c, m, "staff:"+p.UserID)
	})
	if err != nil {
		return Material{}, err
	}
	return m, nil
}

// RemoveMaterial takes back a file the applicant uploaded to case id, while
// c.Uploadable (under review: only a file for an owed 容缺 material);
// paper originals a clerk checked and files staff scanned are not theirs
// to remove.
// The blob itself stays: other cases may hold the same content.
func (s *Service) RemoveMaterial(ctx context.Context, ap Applicant, id, materialID string) error {
	const op = "cases.Service.RemoveMaterial"
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := s.lockOwn(ctx, tx, ap, id)
		if err != nil {
			return err
		}
		if !c.Uploadable() {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("办件当前为“%s”，不能再删除材料", StateLabels[c.State])}
		}
		var m Material
		err = tx.QueryRowContext(ctx, `SELECT name, added_by FROM case_materials WHERE id = $1 AND case_id = $2 AND paper_checked = $3`,
			materialID, c.ID, false).Scan(&m.Name, &m.AddedBy)
		if errors.Is(err, sql.ErrNoRows) {
			return &errs.Error{Kind: errs.NotFound, Op: op, Msg: "材料不存在"}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		// What staff scanned is the record of what they received; while the
		// case is under review only files for the owed 容缺 materials may go.
		if !m.Applicants() {
			return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "窗口工作人员登记的材料不能删除"}
		}
		if c.State != Draft && c.State != Correcting && !slices.Contains(c.Outstanding, m.Name) {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: fmt.Sprintf("办件当前为“%s”，只能删除容缺待补的材料", StateLabels[c.State])}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM case_materials WHERE id = $1`, materialID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "cases.material.remove", TargetType: "case", TargetID: c.ID, Region: c.Region,
			DeptPath: c.DeptPath, Detail: map[string]any{"material": materialID, "name": m.Name}})
	})
}

// Material returns material mid of the applicant's case id.
func (s *Service) Material(ctx context.Context, ap Applicant, id, mid string) (Material, error) {
	c, err := s.own(ctx, s.db.R, ap, id)
	if err != nil {
		return Material{}, err
	}
	return s.materialOf(ctx, c, mid)
}

// StaffMaterial returns material mid of case id, which p may see.
func (s *Service) StaffMaterial(ctx context.Context, p *authz.Principal, id, mid string) (Material, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return Material{}, err
	}
	return s.materialOf(ctx, c, mid)
}

func (s *Service) materialOf(ctx context.Context, c Case, mid string) (Material, error) {
	ms, err := s.Materials(ctx, c.ID)
	if err != nil {
		return Material{}, err
	}
	for _, m := range ms {
		if m.ID == mid {
			return m, nil
		}
	}
	return Material{}, &errs.Error{Kind: errs.NotFound, Op: "cases.Service.Material", Msg: "材料不存在"}
}

// lockOwn locks the applicant's case id for the rest of tx (a guarded
// no-op update, portable) and reads it.
func (s *Service) lockOwn(ctx context.Context, tx *sql.Tx, ap Applicant, id string) (Case, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET version = version WHERE id = $1 AND applicant_id = $2`, id, ap.holder().ID); err != nil {
		return Case{}, fmt.Errorf("cases.lockOwn: %w", err)
	}
	return s.own(ctx, tx, ap, id)
}
