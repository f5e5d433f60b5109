package pdfdoc

import (
	"bytes"
	"image"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestFromHTML(t *testing.T) {
	page := `<div class="toolbar"><a>返回</a><span>打印</span></div>
<article class="card notice"><p class="muted">呼和浩特市卫生健康委员会</p><h1 class="page-title">补正告知书</h1>
<p>办件编号：<code>123</code></p><p>你（单位）提出的   “出生医学证明”申请，现一次性告知：</p>
<ol><li>结婚证复印件</li><li>父亲身份证<b>反面</b></li></ol><p>部门（印章）<br>2026年2月12日</p>
<figure class="qr"><img src="x"><figcaption>扫码</figcaption></figure><script>x()</script></article>`
	got, err := FromHTML(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{{Small, "呼和浩特市卫生健康委员会"}, {Title, "补正告知书"}, {Para, "办件编号：123"}, {Para, "你（单位）提出的 “出生医学证明”申请，现一次性告知："},
		{Item, "结婚证复印件"}, {Item, "父亲身份证反面"}, {Para, "部门（印章）\n2026年2月12日"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("blocks\n%v\nwant\n%v", got, want)
	}
}

func TestFirstOfCollectionRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{[]byte("ttcf"), append([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01"), 0xff, 0xff, 0xff, 0xff)} {
		if _, err := firstOfCollection(b); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}

// TestWriteWithDebianFont prints a notice with the system's CJK font; it
// needs Debian's fonts-wqy-zenhei (CI installs it) and fails under CI
// without it.
func TestWriteWithDebianFont(t *testing.T) {
	const path = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
	font, err := LoadFont(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing: %v", path, err)
		}
		t.Skip("needs fonts-wqy-zenhei")
	}
	var out bytes.Buffer
	blocks := []Block{{Small, "呼和浩特市卫生健康委员会"}, {Title, "受理通知书"}, {Para, strings.Repeat("你（单位）提出的申请，本机关决定予以受理。", 20)}, {Item, "材料一"}}
	if err := Write(&out, font, blocks, image.NewGray(image.Rect(0, 0, 50, 50)), "扫码查询"); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("%PDF-")) || out.Len() < 2000 || !bytes.Contains(out.Bytes(), []byte("/FontFile2")) {
		t.Fatalf("not a PDF with an embedded font: %d bytes", out.Len())
	}
	if err := Write(&out, nil, blocks, nil, ""); err == nil {
		t.Error("wrote without a font")
	}
}
