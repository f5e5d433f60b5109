// Package pdfdoc prints simple documents (notices, 文书) to PDF: a title,
// paragraphs and numbered items in a Chinese font, and a QR code. Its text
// comes from the same HTML the printable page shows (FromHTML), so the
// wording lives in one template. It needs a TrueType font with CJK glyphs
// (LoadFont reads a .ttf, or the first font of a .ttc such as Debian's
// fonts-wqy-zenhei); without one there is no PDF, and callers say so.
package pdfdoc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"github.com/signintech/gopdf"
	"golang.org/x/net/html"
)

// Kind is what a block is.
type Kind int

// The kinds of block.
const (
	Para  Kind = iota // a paragraph
	Title             // the document's title, centred and larger
	Small             // a short line in smaller type (the issuing body above the title)
	Item              // a numbered list item
)

// Block is one paragraph-like piece of a document.
type Block struct {
	Kind Kind
	Text string
}

// LoadFont reads a TrueType font file; from a collection (.ttc) it takes
// the first font and rebuilds it as a standalone font, which is what gopdf
// embeds.
func LoadFont(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 12 || string(b[:4]) != "ttcf" {
		return b, nil
	}
	return firstOfCollection(b)
}

// firstOfCollection copies the first font of a TrueType collection into a
// font file of its own: its table directory with offsets moved to the new
// file, then each table, 4-byte aligned.
func firstOfCollection(b []byte) ([]byte, error) {
	bad := fmt.Errorf("pdfdoc: not a usable TrueType collection")
	if len(b) < 16 || binary.BigEndian.Uint32(b[8:]) == 0 {
		return nil, bad
	}
	off := int(binary.BigEndian.Uint32(b[12:]))
	if off+12 > len(b) {
		return nil, bad
	}
	n := int(binary.BigEndian.Uint16(b[off+4:]))
	if n == 0 || off+12+16*n > len(b) {
		return nil, bad
	}
	var out bytes.Buffer
	out.Write(b[off : off+12])
	dir := make([]byte, 16*n)
	copy(dir, b[off+12:off+12+16*n])
	next := 12 + 16*n
	var data bytes.Buffer
	for i := range n {
		rec := dir[16*i:]
		tOff, tLen := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if tOff < 0 || tLen < 0 || tOff+tLen > len(b) {
			return nil, bad
		}
		binary.BigEndian.PutUint32(rec[8:], uint32(next+data.Len()))
		data.Write(b[tOff : tOff+tLen])
		for data.Len()%4 != 0 {
			data.WriteByte(0)
		}
	}
	out.Write(dir)
	out.Write(data.Bytes())
	return out.Bytes(), nil
}

// FromHTML reads the blocks of a printable page: h1 is the title, p a
// paragraph (br breaks lines), li a numbered item, an element with class
// "muted" before the title a small line. Elements with class "toolbar" or
// "no-pdf", scripts and figures are left out.
func FromHTML(r io.Reader) ([]Block, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return nil, err
	}
	var out []Block
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			cls := " " + attr(n, "class") + " "
			switch {
			case strings.Contains(cls, " toolbar ") || strings.Contains(cls, " no-pdf ") || n.Data == "script" || n.Data == "style" || n.Data == "figure":
				return
			case n.Data == "h1":
				out = append(out, Block{Title, text(n)})
				return
			case n.Data == "p" && strings.Contains(cls, " muted ") && !hasTitle(out):
				out = append(out, Block{Small, text(n)})
				return
			case n.Data == "p":
				out = append(out, Block{Para, text(n)})
				return
			case n.Data == "li":
				out = append(out, Block{Item, text(n)})
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out, nil
}

func hasTitle(bs []Block) bool {
	for _, b := range bs {
		if b.Kind == Title {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is n's text with runs of spaces folded and <br> as a line break.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.Data == "br":
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// Write lays out blocks on A4 pages in font, with qr (if any) at the end,
// and writes the PDF to w.
func Write(w io.Writer, font []byte, blocks []Block, qr image.Image, qrCaption string) error {
	if len(font) == 0 {
		return fmt.Errorf("pdfdoc: no font")
	}
	const margin, width, bottom = 64.0, 595.0 - 2*64.0, 842.0 - 64.0
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	if err := pdf.AddTTFFontData("cjk", font); err != nil {
		return fmt.Errorf("pdfdoc: font: %w", err)
	}
	pdf.AddPage()
	y := margin
	item := 0
	line := func(s string, size float64, centre bool) error {
		if err := pdf.SetFont("cjk", "", size); err != nil {
			return err
		}
		lines, err := pdf.SplitText(s, width)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if y+size*1.6 > bottom {
				pdf.AddPage()
				y = margin
			}
			x := margin
			if centre {
				if tw, err := pdf.MeasureTextWidth(l); err == nil {
					x = margin + (width-tw)/2
				}
			}
			pdf.SetXY(x, y)
			if err := pdf.Cell(nil, l); err != nil {
				return err
			}
			y += size * 1.6
		}
		return nil
	}
	for _, b := range blocks {
		var err error
		switch b.Kind {
		case Title:
			y += 8
			err = line(b.Text, 20, true)
			y += 12
		case Small:
			err = line(b.Text, 10, true)
		case Item:
			item++
			err = line(fmt.Sprintf("%d. %s", item, b.Text), 12, false)
		default:
			item = 0
			for _, l := range strings.Split(b.Text, "\n") {
				if err = line(l, 12, false); err != nil {
					break
				}
			}
			y += 6
		}
		if err != nil {
			return fmt.Errorf("pdfdoc: %w", err)
		}
	}
	if qr != nil {
		if y+130 > bottom {
			pdf.AddPage()
			y = margin
		}
		if err := pdf.ImageFrom(qr, margin, y+8, &gopdf.Rect{W: 100, H: 100}); err != nil {
			return fmt.Errorf("pdfdoc: qr: %w", err)
		}
		y += 112
		if qrCaption != "" {
			if err := line(qrCaption, 9, false); err != nil {
				return fmt.Errorf("pdfdoc: %w", err)
			}
		}
	}
	return pdf.Write(w)
}
