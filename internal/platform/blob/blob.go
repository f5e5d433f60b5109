package blob

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yiwang/internal/platform/errs"
)

// Blob describes one stored file. Key and SHA256 are the same lower-case
// hex digest; both are kept so callers can say which one they mean.
type Blob struct {
	Key         string `json:"key"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"` // sniffed from the content: PDF, OFD, JPEG, PNG, …
}

// Store keeps uploaded files by content.
type Store interface {
	// Put reads r to the end, or until it has read more than max bytes, and
	// stores the content if it is not empty, at most max bytes and of a
	// type in allowed (sniffed from the bytes). Storing content that is
	// already there is not an error and returns the same Blob.
	Put(ctx context.Context, r io.Reader, max int64, allowed []string) (Blob, error)
	// PutExpect is Put that also refuses content whose SHA-256 is not
	// wantSHA256 (64 hex digits, any case), as a client computed it before
	// sending; nothing is stored then.
	PutExpect(ctx context.Context, r io.Reader, max int64, allowed []string, wantSHA256 string) (Blob, error)
	// Open returns the content of key; the caller closes it. An invalid key
	// is Invalid, an absent one NotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, Blob, error)
	// Delete removes key; removing an absent blob is not an error.
	Delete(ctx context.Context, key string) error
}

// The content types Put recognises by their magic bytes.
const (
	PDF  = "application/pdf"
	OFD  = "application/ofd" // GB/T 33190 版式文档: a ZIP package with OFD.xml at its root
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// Documents are the types usually accepted for application materials.
var Documents = []string{PDF, OFD, JPEG, PNG}

// typeNames are the names people know the types by, for messages.
var typeNames = map[string]string{PDF: "PDF", OFD: "OFD", JPEG: "JPG", PNG: "PNG"}

// The zh-CN messages of Put's refusals.
const (
	msgEmpty    = "文件为空"
	msgDigest   = "文件摘要不一致，可能在传输中损坏"
	msgBadKey   = "文件标识无效"
	msgBadSum   = "文件摘要格式不正确，应为64位十六进制的 SHA-256 值"
	msgReadFail = "文件上传未完成，请重新上传"
)

func invalid(op, msg string, cause error) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Err: cause}
}

// TooLargeMessage is the refusal of a file over max bytes:
// "文件过大，不能超过 10 MB".
func TooLargeMessage(max int64) string { return "文件过大，不能超过 " + humanSize(max) }

// TypeMessage is the refusal of a type outside allowed:
// "不支持的文件类型：只接受 PDF、JPG、PNG".
func TypeMessage(allowed []string) string {
	if len(allowed) == 0 {
		return "不支持的文件类型"
	}
	names := make([]string, len(allowed))
	for i, t := range allowed {
		names[i] = t
		if n := typeNames[t]; n != "" {
			names[i] = n
		}
	}
	return "不支持的文件类型：只接受 " + strings.Join(names, "、")
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}

// ValidKey reports whether key is a blob key: 64 lower-case hex digits.
// Only valid keys are ever turned into paths.
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// NormalizeSHA256 reads a client-supplied hex SHA-256 (surrounding spaces
// and upper case allowed) as a key; ok is false when it is not one.
func NormalizeSHA256(s string) (key string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return s, ValidKey(s)
}

// Sniff names the type of content from its first bytes (head, at least
// the first 512 when there are that many) and, for ZIP packages, from the
// whole content in ra (size bytes), which tells OFD from other ZIP files.
// Parameters such as "; charset=utf-8" are dropped.
func Sniff(head []byte, ra io.ReaderAt, size int64) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return PDF
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte("\xFF\xD8\xFF")):
		return JPEG
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) && ra != nil && isOFD(ra, size):
		return OFD
	}
	ct, _, _ := strings.Cut(http.DetectContentType(head), ";")
	return strings.TrimSpace(ct)
}

// isOFD reports whether ra is a ZIP package with OFD.xml at its root (the
// entry file of GB/T 33190). Only the central directory is read.
func isOFD(ra io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if strings.EqualFold(f.Name, "OFD.xml") {
			return true
		}
	}
	return false
}

// Dir is a Store on the local file system.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir opens (creating if needed, mode 0700) a store rooted at path,
// e.g. data_dir/blobs.
func NewDir(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("blob.NewDir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob.NewDir: %w", err)
	}
	return &Dir{root: abs}, nil
}

// path is where key lives; key must be valid.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, key[0:2], key[2:4], key)
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, r io.Reader, max int64, allowed []string) (Blob, error) {
	return d.put(ctx, "blob.Dir.Put", r, max, allowed, "")
}

// PutExpect implements Store.
func (d *Dir) PutExpect(ctx context.Context, r io.Reader, max int64, allowed []string, wantSHA256 string) (Blob, error) {
	const op = "blob.Dir.PutExpect"
	want, ok := NormalizeSHA256(wantSHA256)
	if !ok {
		return Blob{}, invalid(op, msgBadSum, nil)
	}
	return d.put(ctx, op, r, max, allowed, want)
}

func (d *Dir) put(ctx context.Context, op string, r io.Reader, max int64, allowed []string, want string) (b Blob, err error) {
	if max <= 0 {
		return Blob{}, fmt.Errorf("%s: max = %d, want > 0", op, max)
	}
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "put-*")
	if err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	// Until the rename, the temporary file is ours to remove on every way out.
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	var head []byte
	var n int64
	lr := io.LimitReader(r, max+1)
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return Blob{}, fmt.Errorf("%s: %w", op, err)
		}
		k, rerr := lr.Read(buf)
		if k > 0 {
			n += int64(k)
			if n > max {
				return Blob{}, invalid(op, TooLargeMessage(max), nil)
			}
			h.Write(buf[:k])
			if len(head) < 512 {
				head = append(head, buf[:min(k, 512-len(head))]...)
			}
			if _, err := tmp.Write(buf[:k]); err != nil {
				return Blob{}, fmt.Errorf("%s: %w", op, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](rerr); ok {
				return Blob{}, invalid(op, TooLargeMessage(max), rerr)
			}
			if ctx.Err() != nil {
				return Blob{}, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			return Blob{}, invalid(op, msgReadFail, rerr)
		}
	}
	if n == 0 {
		return Blob{}, invalid(op, msgEmpty, nil)
	}
	b = Blob{Size: n, ContentType: Sniff(head, tmp, n)}
	b.Key = hex.EncodeToString(h.Sum(nil))
	b.SHA256 = b.Key
	if !contains(allowed, b.ContentType) {
		return Blob{}, invalid(op, TypeMessage(allowed), fmt.Errorf("sniffed %s", b.ContentType))
	}
	if want != "" && want != b.Key {
		return Blob{}, invalid(op, msgDigest, fmt.Errorf("client sent %s, content hashes to %s", want, b.Key))
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	final := d.path(b.Key)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		return b, nil // already stored: same name, same bytes
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	renamed = true
	// The rename is durable only once the directory entry is on disk.
	if err := syncDir(dir); err != nil {
		return Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// Open implements Store. The type is sniffed again from the stored bytes,
// so it is the same as Put reported.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, Blob, error) {
	const op = "blob.Dir.Open"
	if !ValidKey(key) {
		return nil, Blob{}, invalid(op, msgBadKey, nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, Blob{}, &errs.Error{Kind: errs.NotFound, Op: op, Msg: "文件不存在或已删除", Err: err}
	}
	if err != nil {
		return nil, Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	head := make([]byte, 512)
	k, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, Blob{}, fmt.Errorf("%s: %w", op, err)
	}
	return f, Blob{Key: key, SHA256: key, Size: fi.Size(), ContentType: Sniff(head[:k], f, fi.Size())}, nil
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	const op = "blob.Dir.Delete"
	if !ValidKey(key) {
		return invalid(op, msgBadKey, nil)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Verify checks that key is the digest a client expects (wantSHA256, any
// case) and that the stored bytes still hash to key. A mismatch with the
// client's digest is Invalid; stored bytes that no longer match their key
// (disk corruption, an edit behind the store's back) are an Internal error.
func (d *Dir) Verify(ctx context.Context, key, wantSHA256 string) error {
	const op = "blob.Dir.Verify"
	want, ok := NormalizeSHA256(wantSHA256)
	if !ok {
		return invalid(op, msgBadSum, nil)
	}
	if !ValidKey(key) {
		return invalid(op, msgBadKey, nil)
	}
	if want != key {
		return invalid(op, msgDigest, nil)
	}
	rc, _, err := d.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, rc}); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != key {
		return fmt.Errorf("%s: stored content of %s hashes to %s", op, key, got)
	}
	return nil
}

// PurgeTemp removes temporary files older than age, left behind by Puts
// that a crash interrupted, and returns how many it removed. Run it from
// housekeeping with an age far longer than any upload (e.g. an hour).
func (d *Dir) PurgeTemp(age time.Duration) (int, error) {
	dir := filepath.Join(d.root, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("blob.Dir.PurgeTemp: %w", err)
	}
	cutoff := time.Now().Add(-age)
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.ModTime().After(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
