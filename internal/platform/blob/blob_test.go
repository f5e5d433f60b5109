package blob

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"yiwang/internal/platform/errs"
)

func newDir(t testing.TB) *Dir {
	t.Helper()
	d, err := NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Sample files of every recognised type.
func samplePDF() []byte { return []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n") }

func samplePNG(t testing.TB) []byte {
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleZip is a ZIP package holding the named files; with OFD.xml it is
// an OFD document as far as sniffing goes.
func sampleZip(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>`)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wantInvalid fails unless err is Invalid with exactly msg.
func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Msg != msg {
		t.Fatalf("error = %v, want Invalid %q", err, msg)
	}
}

// files lists every regular file under root, relative, in walk order.
func files(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestPutTypes(t *testing.T) {
	d := newDir(t)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"pdf", PDF, samplePDF()},
		{"png", PNG, samplePNG(t)},
		{"jpeg", JPEG, sampleJPEG(t)},
		{"ofd", OFD, sampleZip(t, "OFD.xml", "Doc_0/Document.xml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := d.Put(t.Context(), bytes.NewReader(tc.data), 1<<20, Documents)
			if err != nil {
				t.Fatal(err)
			}
			want := Blob{Key: sum(tc.data), SHA256: sum(tc.data), Size: int64(len(tc.data)), ContentType: tc.want}
			if b != want {
				t.Fatalf("Put = %+v, want %+v", b, want)
			}
			rc, ob, err := d.Open(t.Context(), b.Key)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, _ := io.ReadAll(rc)
			if !bytes.Equal(got, tc.data) || ob != want {
				t.Fatalf("Open = %+v (%d bytes), want %+v (%d bytes)", ob, len(got), want, len(tc.data))
			}
			if p := files(t, d.root); len(p) != 1 || p[0] != b.Key[:2]+"/"+b.Key[2:4]+"/"+b.Key {
				t.Fatalf("files = %v", p)
			}
			d.Delete(t.Context(), b.Key)
		})
	}
}

// TestPutRefusals: every refusal is Invalid with its zh-CN message and
// leaves nothing behind.
func TestPutRefusals(t *testing.T) {
	pdf := samplePDF()
	big := append(samplePDF(), bytes.Repeat([]byte{'x'}, 1<<20)...)
	imagesOnly := []string{JPEG, PNG}
	for _, tc := range []struct {
		name    string
		r       io.Reader
		max     int64
		allowed []string
		want    string // "" for a digest given with PutExpect
		digest  string
		msg     string
	}{
		{name: "empty", r: bytes.NewReader(nil), max: 100, allowed: Documents, msg: "文件为空"},
		{name: "one byte over", r: bytes.NewReader(pdf), max: int64(len(pdf) - 1), allowed: Documents, msg: TooLargeMessage(int64(len(pdf) - 1))},
		{name: "over 1 MB", r: bytes.NewReader(big), max: 1 << 20, allowed: Documents, msg: "文件过大，不能超过 1 MB"},
		{name: "endless", r: neverEnding('x'), max: 10 << 20, allowed: Documents, msg: "文件过大，不能超过 10 MB"},
		{name: "MaxBytesReader", r: http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(big)), 100), max: 1 << 20, allowed: Documents, msg: "文件过大，不能超过 1 MB"},
		{name: "text", r: strings.NewReader("hello"), max: 100, allowed: Documents, msg: "不支持的文件类型：只接受 PDF、OFD、JPG、PNG"},
		{name: "html posing as pdf", r: strings.NewReader("<html>%PDF-1.4"), max: 100, allowed: Documents, msg: "不支持的文件类型：只接受 PDF、OFD、JPG、PNG"},
		{name: "pdf where only images", r: bytes.NewReader(pdf), max: 1 << 20, allowed: imagesOnly, msg: "不支持的文件类型：只接受 JPG、PNG"},
		{name: "plain zip is not ofd", r: bytes.NewReader(sampleZip(t, "word/document.xml")), max: 1 << 20, allowed: Documents, msg: "不支持的文件类型：只接受 PDF、OFD、JPG、PNG"},
		{name: "nothing allowed", r: bytes.NewReader(pdf), max: 1 << 20, allowed: nil, msg: "不支持的文件类型"},
		{name: "mismatched digest", r: bytes.NewReader(pdf), max: 1 << 20, allowed: Documents, digest: sum([]byte("other")), msg: "文件摘要不一致，可能在传输中损坏"},
		{name: "malformed digest", r: bytes.NewReader(pdf), max: 1 << 20, allowed: Documents, digest: "../../etc/passwd", msg: msgBadSum},
		{name: "short digest", r: bytes.NewReader(pdf), max: 1 << 20, allowed: Documents, digest: sum(pdf)[:63], msg: msgBadSum},
		{name: "broken upload", r: io.MultiReader(bytes.NewReader(pdf), iotest.ErrReader(io.ErrUnexpectedEOF)), max: 1 << 20, allowed: Documents, msg: "文件上传未完成，请重新上传"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDir(t)
			var err error
			if tc.digest != "" {
				_, err = d.PutExpect(t.Context(), tc.r, tc.max, tc.allowed, tc.digest)
			} else {
				_, err = d.Put(t.Context(), tc.r, tc.max, tc.allowed)
			}
			wantInvalid(t, err, tc.msg)
			if f := files(t, d.root); len(f) != 0 {
				t.Errorf("left behind: %v", f)
			}
		})
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestPutExpect(t *testing.T) {
	d := newDir(t)
	pdf := samplePDF()
	// Upper case and spaces around the client's digest are fine.
	b, err := d.PutExpect(t.Context(), bytes.NewReader(pdf), 1<<20, Documents, " "+strings.ToUpper(sum(pdf))+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if b.Key != sum(pdf) {
		t.Fatalf("key = %s", b.Key)
	}
}

// TestMismatchKeepsExisting: a refused upload whose bytes are already
// stored (for someone else) must not disturb that blob.
func TestMismatchKeepsExisting(t *testing.T) {
	d := newDir(t)
	pdf := samplePDF()
	if _, err := d.Put(t.Context(), bytes.NewReader(pdf), 1<<20, Documents); err != nil {
		t.Fatal(err)
	}
	_, err := d.PutExpect(t.Context(), bytes.NewReader(pdf), 1<<20, Documents, sum([]byte("x")))
	wantInvalid(t, err, msgDigest)
	if err := d.Verify(t.Context(), sum(pdf), sum(pdf)); err != nil {
		t.Fatal(err)
	}
}

func TestPutCancelled(t *testing.T) {
	d := newDir(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := d.Put(ctx, bytes.NewReader(samplePDF()), 1<<20, Documents)
	if !errors.Is(err, context.Canceled) || errs.KindOf(err) == errs.Invalid {
		t.Fatalf("error = %v, want context.Canceled, not Invalid", err)
	}
	if f := files(t, d.root); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}

func TestPutIdempotent(t *testing.T) {
	d := newDir(t)
	pdf := samplePDF()
	a, err := d.Put(t.Context(), bytes.NewReader(pdf), 1<<20, Documents)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Put(t.Context(), bytes.NewReader(pdf), 1<<20, Documents)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("second Put = %+v, first %+v", b, a)
	}
	if f := files(t, d.root); len(f) != 1 {
		t.Fatalf("files = %v, want one", f)
	}
}

// TestPutConcurrent: Puts of the same content racing each other all
// succeed with the same blob, and exactly one complete file remains.
func TestPutConcurrent(t *testing.T) {
	d := newDir(t)
	data := append(samplePDF(), bytes.Repeat([]byte("材料"), 200_000)...)
	const n = 8
	got := make([]Blob, n)
	errc := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// A slow reader makes the writes overlap.
			got[i], errc[i] = d.Put(t.Context(), iotest.HalfReader(bytes.NewReader(data)), 10<<20, Documents)
		})
	}
	wg.Wait()
	for i := range n {
		if errc[i] != nil {
			t.Fatalf("Put %d: %v", i, errc[i])
		}
		if got[i] != got[0] {
			t.Fatalf("Put %d = %+v, Put 0 = %+v", i, got[i], got[0])
		}
	}
	if f := files(t, d.root); len(f) != 1 {
		t.Fatalf("files = %v, want one", f)
	}
	if err := d.Verify(t.Context(), got[0].Key, sum(data)); err != nil {
		t.Fatal(err)
	}
}

// TestNoPartialBlob is the crash-safety argument made checkable: at every
// point while Put is reading (where a crash may strike), nothing exists at
// the blob's final path; its bytes live only in a temporary file, which
// becomes the blob by one rename after it was synced. A failure midway
// removes the temporary file.
func TestNoPartialBlob(t *testing.T) {
	d := newDir(t)
	data := append(samplePDF(), bytes.Repeat([]byte{'7'}, 300_000)...)
	final := d.path(sum(data))
	reads := 0
	check := func() {
		reads++
		if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("read %d: final path exists before Put returned (%v)", reads, err)
		}
		for _, f := range files(t, d.root) {
			if !strings.HasPrefix(f, "tmp/") {
				t.Errorf("read %d: %s outside tmp/", reads, f)
			}
		}
	}
	r := io.MultiReader(iotest.OneByteReader(bytes.NewReader(data[:100])), bytes.NewReader(data[100:]))
	if _, err := d.Put(t.Context(), checkReader{r, check}, 1<<20, Documents); err != nil {
		t.Fatal(err)
	}
	if reads < 100 {
		t.Fatalf("only %d reads observed", reads)
	}
	if f := files(t, d.root); len(f) != 1 || strings.HasPrefix(f[0], "tmp/") {
		t.Fatalf("after Put: %v", f)
	}

	// A reader failing midway leaves nothing, not even the temporary file.
	_, err := d.Put(t.Context(), io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(errors.New("connection reset"))), 1<<20, Documents)
	wantInvalid(t, err, msgReadFail)
	if f := files(t, d.root); len(f) != 1 {
		t.Fatalf("after a failed Put: %v", f)
	}
}

// checkReader calls check before every read.
type checkReader struct {
	r     io.Reader
	check func()
}

func (c checkReader) Read(p []byte) (int, error) {
	c.check()
	return c.r.Read(p)
}

// TestKeysNeverReachTheFileSystem: Open, Delete and Verify refuse any key
// that is not 64 lower-case hex digits, so none names a path of its own.
func TestKeysNeverReachTheFileSystem(t *testing.T) {
	d := newDir(t)
	secret := filepath.Join(filepath.Dir(d.root), "secret")
	os.WriteFile(secret, []byte("%PDF-secret"), 0o600)
	good := sum(samplePDF())
	for _, key := range []string{"", "../secret", "../../secret", "/etc/passwd", good[:63], good + "0", strings.ToUpper(good),
		good[:62] + "/.", "..\\..\\secret", good[:63] + "\x00", good[:60] + "../a", "g" + good[1:]} {
		if _, _, err := d.Open(t.Context(), key); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Open(%q) error = %v, want Invalid", key, err)
		}
		if err := d.Delete(t.Context(), key); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Delete(%q) error = %v, want Invalid", key, err)
		}
		if err := d.Verify(t.Context(), key, key); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Verify(%q) error = %v, want Invalid", key, err)
		}
	}
	if _, err := os.Stat(secret); err != nil {
		t.Fatalf("the file outside the store is gone: %v", err)
	}
}

func TestOpenDelete(t *testing.T) {
	d := newDir(t)
	key := sum(samplePDF())
	if _, _, err := d.Open(t.Context(), key); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("Open(absent) error = %v, want NotFound", err)
	}
	if err := d.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(absent) = %v, want nil", err)
	}
	if _, err := d.Put(t.Context(), bytes.NewReader(samplePDF()), 1<<20, Documents); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(t.Context(), key); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("Open(deleted) error = %v, want NotFound", err)
	}
}

func TestVerify(t *testing.T) {
	d := newDir(t)
	pdf := samplePDF()
	b, err := d.Put(t.Context(), bytes.NewReader(pdf), 1<<20, Documents)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(t.Context(), b.Key, strings.ToUpper(b.Key)); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	wantInvalid(t, d.Verify(t.Context(), b.Key, sum([]byte("x"))), msgDigest)
	wantInvalid(t, d.Verify(t.Context(), b.Key, "xyz"), msgBadSum)
	if err := d.Verify(t.Context(), sum([]byte("x")), sum([]byte("x"))); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("Verify(absent) = %v, want NotFound", err)
	}
	// Bytes changed behind the store's back are an internal error.
	if err := os.WriteFile(d.path(b.Key), append(pdf, '!'), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(t.Context(), b.Key, b.Key); err == nil || errs.KindOf(err) != errs.Internal {
		t.Fatalf("Verify(corrupt) = %v, want Internal", err)
	}
}

func TestPurgeTemp(t *testing.T) {
	d := newDir(t)
	old := filepath.Join(d.root, "tmp", "put-old")
	fresh := filepath.Join(d.root, "tmp", "put-fresh")
	os.WriteFile(old, []byte("partial"), 0o600)
	os.WriteFile(fresh, []byte("partial"), 0o600)
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, long, long)
	n, err := d.PurgeTemp(time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("PurgeTemp = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh temporary file removed: %v", err)
	}
}

func TestMessages(t *testing.T) {
	for n, want := range map[int64]string{10 << 20: "10 MB", 1536 << 10: "1.5 MB", 512 << 10: "512 KB", 1000: "1000 字节"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := TypeMessage([]string{PDF, JPEG, PNG}); got != "不支持的文件类型：只接受 PDF、JPG、PNG" {
		t.Errorf("TypeMessage = %q", got)
	}
}

func TestPutRefusesNonPositiveMax(t *testing.T) {
	d := newDir(t)
	if _, err := d.Put(t.Context(), bytes.NewReader(samplePDF()), 0, Documents); err == nil || errs.KindOf(err) == errs.Invalid {
		t.Fatalf("Put(max 0) = %v, want an internal error", err)
	}
}

// FuzzPut: any bytes under any limit are stored or refused as Invalid,
// never a panic; what is stored is what was sent, of an allowed type,
// within the limit, under its SHA-256.
func FuzzPut(f *testing.F) {
	f.Add(samplePDF(), int64(100), uint8(0xF))
	f.Add(samplePNG(f), int64(1<<20), uint8(0x8))
	f.Add(sampleZip(f, "OFD.xml"), int64(1<<20), uint8(0x2))
	f.Add([]byte{}, int64(1), uint8(0xF))
	f.Add([]byte("PK\x03\x04garbage"), int64(50), uint8(0xF))
	d, err := NewDir(filepath.Join(f.TempDir(), "blobs"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int64, mask uint8) {
		if max <= 0 || max > 1<<20 {
			max = int64(len(data)) + int64(mask%3) - 1
			if max <= 0 {
				max = 1
			}
		}
		var allowed []string
		for i, typ := range Documents {
			if mask&(1<<i) != 0 {
				allowed = append(allowed, typ)
			}
		}
		b, err := d.Put(t.Context(), bytes.NewReader(data), max, allowed)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Put: %v, want Invalid", err)
			}
			return
		}
		if b.Size != int64(len(data)) || b.Size == 0 || b.Size > max || b.Key != sum(data) || !contains(allowed, b.ContentType) {
			t.Fatalf("Put(%d bytes, max %d, %v) = %+v", len(data), max, allowed, b)
		}
		rc, ob, err := d.Open(t.Context(), b.Key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) || ob != b {
			t.Fatalf("Open = %+v, want %+v", ob, b)
		}
	})
}

// BenchmarkPut stores distinct 1 MB PDFs (each one is written, synced and
// renamed) and, separately, the same one again and again.
func BenchmarkPut(b *testing.B) {
	data := append(samplePDF(), bytes.Repeat([]byte("0123456789abcdef"), (1<<20)/16-4)...)
	data = data[:1<<20]
	for _, distinct := range []bool{true, false} {
		name := "1MB-distinct"
		if !distinct {
			name = "1MB-same"
		}
		b.Run(name, func(b *testing.B) {
			d := newDir(b)
			b.SetBytes(int64(len(data)))
			i := 0
			for b.Loop() {
				if distinct {
					i++
					copy(data[len(data)-8:], []byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24), 'e', 'n', 'd', '\n'})
				}
				if _, err := d.Put(b.Context(), bytes.NewReader(data), 10<<20, Documents); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
