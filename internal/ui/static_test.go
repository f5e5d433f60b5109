package ui

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// vendorDir is relative to this package's directory, which is the working
// directory of `go test`.
const vendorDir = "static/vendor"

// notVendored are files in vendorDir that describe the vendored files and are
// therefore not themselves listed in SHA256SUMS.
var notVendored = map[string]bool{
	"SHA256SUMS": true,
	"README.md":  true,
}

// readSums parses vendorDir/SHA256SUMS (the output format of sha256sum:
// "<64 hex>  <name>" or "<64 hex> *<name>") into name -> lowercase hex digest.
func readSums(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vendorDir, "SHA256SUMS"))
	if err != nil {
		t.Fatalf("read SHA256SUMS: %v", err)
	}
	sums := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(line) < 67 || (line[64:66] != "  " && line[64:66] != " *") {
			t.Errorf("SHA256SUMS:%d: malformed line %q", n, line)
			continue
		}
		sum, name := strings.ToLower(line[:64]), line[66:]
		if _, err := hex.DecodeString(sum); err != nil {
			t.Errorf("SHA256SUMS:%d: bad digest %q: %v", n, line[:64], err)
			continue
		}
		if !fs.ValidPath(name) || name == "." {
			t.Errorf("SHA256SUMS:%d: name %q must be a clean relative path inside %s", n, name, vendorDir)
			continue
		}
		if notVendored[name] {
			t.Errorf("SHA256SUMS:%d: %s must not list itself or README.md", n, name)
			continue
		}
		if _, dup := sums[name]; dup {
			t.Errorf("SHA256SUMS:%d: %s listed twice", n, name)
			continue
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan SHA256SUMS: %v", err)
	}
	if len(sums) == 0 {
		t.Fatal("SHA256SUMS lists no files")
	}
	return sums
}

func TestVendorChecksums(t *testing.T) {
	sums := readSums(t)
	for name, want := range sums {
		data, err := os.ReadFile(filepath.Join(vendorDir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: listed in SHA256SUMS but cannot be read: %v", name, err)
			continue
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 = %x, SHA256SUMS says %s", name, got, want)
		}
	}
}

func TestVendorFilesAllListed(t *testing.T) {
	sums := readSums(t)
	var seen int
	err := filepath.WalkDir(vendorDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(vendorDir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if notVendored[rel] {
			return nil
		}
		if !d.Type().IsRegular() {
			t.Errorf("%s: vendored files must be regular files", rel)
			return nil
		}
		seen++
		if _, ok := sums[rel]; !ok {
			t.Errorf("%s: vendored file missing from SHA256SUMS", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", vendorDir, err)
	}
	if seen == 0 {
		t.Errorf("no vendored files found in %s", vendorDir)
	}
}

// externalRef matches references to other hosts in CSS: absolute or
// protocol-relative URLs and @import rules.
var externalRef = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import`)

// TestStylesheetNoExternalURLs guards the "no CDN, no web fonts" rule for
// the stylesheet.
func TestStylesheetNoExternalURLs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("static", "app.css"))
	if err != nil {
		t.Fatalf("read static/app.css: %v", err)
	}
	if m := externalRef.Find(data); m != nil {
		t.Errorf("static/app.css: external reference %q", m)
	}
}
