package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
)

// MaxQueryRunes is the longest query text, in characters, that ParseQuery accepts.
const MaxQueryRunes = 100

// Character classes produced by fold.
const (
	classSep  uint8 = iota // separator: punctuation, symbols, spaces
	classWord              // letter or digit outside CJK, kept in whole words
	classCJK               // CJK character, cut into bigrams
	classMark              // combining mark: part of a word if it follows one, else a separator
)

// fold returns the searchable form of r and its class.
func fold(r rune) (rune, uint8) {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r, classWord
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A', classWord
		}
		return r, classSep
	}
	if 0xFF01 <= r && r <= 0xFF5E { // full-width ASCII
		return fold(r - 0xFEE0)
	}
	switch {
	case unicode.IsLetter(r) || unicode.IsNumber(r):
		if isCJK(r) {
			return r, classCJK
		}
		return unicode.ToLower(r), classWord
	case unicode.Is(unicode.M, r):
		return r, classMark
	}
	return r, classSep
}

// isCJK reports whether the letter r is cut into bigrams rather than kept in words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) ||
		r == 0x30FC || r == 0xFF70 // prolonged sound marks, script Common
}

// unit is one character of a text after folding, with its byte span in the original.
type unit struct {
	r          rune
	class      uint8
	start, end int
}

// scan folds s character by character. Invalid bytes are dropped, as if
// absent; a combining mark joins the word before it or else is a separator.
func scan(s string, fn func(u unit)) {
	prev := classSep
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			i++
			continue
		}
		f, c := fold(r)
		if c == classMark {
			c = classSep
			if prev == classWord {
				c = classWord
			}
		}
		fn(unit{r: f, class: c, start: i, end: i + n})
		prev = c
		i += n
	}
}

// run is a maximal sequence of folded characters of one class: a CJK run or a word.
type run struct {
	text string
	cjk  bool
}

// runs cuts s into its runs.
func runs(s string) []run {
	var out []run
	var b strings.Builder
	cur := classSep
	flush := func() {
		if b.Len() > 0 {
			out = append(out, run{text: b.String(), cjk: cur == classCJK})
			b.Reset()
		}
	}
	scan(s, func(u unit) {
		if u.class != cur {
			flush()
			cur = u.class
		}
		if u.class != classSep {
			b.WriteRune(u.r)
		}
	})
	flush()
	return out
}

// Marker tokens. They are private-use characters, which fold always treats
// as separators, so no text or query can produce them by itself.
const (
	filler     = "\ue000" // between two runs of one column, so no phrase spans them
	exactMark  = "\ue001" // + a name's key: the name equals the query
	prefixMark = "\ue002" // + a prefix of a name's key: the name starts with the query
)

// maxPrefix is the longest key prefix, in characters, indexed for the prefix
// tier. A broad query with a longer key takes as prefix matches the names
// whose key starts with its first maxPrefix characters.
const maxPrefix = 12

// key is how the exact and prefix tiers see a name or a query: its runs,
// joined by filler. One key starts with another when their runs are equal
// except that the other's last run may be cut short.
func key(rs []run) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(filler)
		}
		b.WriteString(r.text)
	}
	return b.String()
}

// keyColumn returns the text of the column that makes the exact and prefix
// tiers single-token queries: the name's key behind exactMark, and each of
// its first maxPrefix prefixes behind prefixMark. A key has no spaces, so
// each stays one token.
func keyColumn(k string) string {
	if k == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(exactMark + k)
	n := 0
	for i := range k {
		if i > 0 {
			b.WriteString(" " + prefixMark + k[:i])
		}
		if n++; n > maxPrefix {
			return b.String()
		}
	}
	b.WriteString(" " + prefixMark + k)
	return b.String()
}

// column returns the FTS5 column text for one field's runs: bigrams of CJK
// runs (a one-character run stays one token), whole words, and filler
// between two runs that both yield CJK tokens. It adds the field's CJK
// characters to uni, if uni is not nil.
func column(rs []run, uni *unigrams) string {
	var b strings.Builder
	lastCJK := false // the last token written came from an earlier CJK run
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	for _, r := range rs {
		if !r.cjk {
			sep()
			b.WriteString(r.text)
			lastCJK = false
			continue
		}
		if lastCJK {
			b.WriteString(" " + filler)
		}
		if uni != nil {
			for _, c := range r.text {
				uni.add(c)
			}
		}
		if c, n := utf8.DecodeRuneInString(r.text); n == len(r.text) {
			sep()
			b.WriteRune(c)
		} else {
			var prev rune
			for i, c := range r.text {
				if i > 0 {
					sep()
					b.WriteRune(prev)
					b.WriteRune(c)
				}
				prev = c
			}
		}
		lastCJK = true
	}
	return b.String()
}

// trigrams adds the overlapping trigrams of each CJK run of three or more
// characters among rs to b, the text of the trigram column, which holds
// every field's: a filler token goes before each run's trigrams when b
// already holds some, so no phrase spans two runs or two fields.
func trigrams(rs []run, b *strings.Builder) {
	for _, r := range rs {
		if !r.cjk || utf8.RuneCountInString(r.text) < 3 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" " + filler)
		}
		var at [3]int // byte offsets of the last three characters
		k := 0
		for i, c := range r.text {
			at[0], at[1], at[2] = at[1], at[2], i
			if k++; k < 3 {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(r.text[at[0] : i+utf8.RuneLen(c)])
		}
	}
}

// unigrams collects a document's distinct CJK characters.
type unigrams struct {
	seen map[rune]bool
	b    strings.Builder
}

func (u *unigrams) add(c rune) {
	if u.seen == nil {
		u.seen = make(map[rune]bool)
	}
	if u.seen[c] {
		return
	}
	u.seen[c] = true
	if u.b.Len() > 0 {
		u.b.WriteByte(' ')
	}
	u.b.WriteRune(c)
}

func (u *unigrams) String() string { return u.b.String() }

// ParseQuery normalises user text into search terms (exported for fuzzing and
// tests): the folded runs of text, duplicates removed, in order. Terms are
// ANDed by Search. Text longer than MaxQueryRunes characters, or with no
// letter, digit or CJK character, is an Invalid error with a zh-CN message.
func ParseQuery(text string) (terms []string, err error) {
	const op = "search.ParseQuery"
	if utf8.RuneCountInString(strings.TrimSpace(text)) > MaxQueryRunes {
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "搜索词过长，请不超过100个字"}
	}
	for _, r := range runs(text) {
		dup := false
		for _, t := range terms {
			dup = dup || t == r.text
		}
		if !dup {
			terms = append(terms, r.text)
		}
	}
	if len(terms) == 0 {
		return nil, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请输入要搜索的内容"}
	}
	return terms, nil
}

// quote writes s as an FTS5 string, which FTS5 never reads as syntax.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// matchExpr turns terms into an FTS5 MATCH expression: each term is a quoted
// phrase restricted to the field columns (fieldCols, e.g. "{f0 f1}") or, for
// a single CJK character, to the unigram column, or, for a CJK term of three
// or more characters when tri is set, to the trigram column; terms are
// ANDed. A term's trigram phrase matches exactly the documents its bigram
// phrase matches (both: the term lies inside one CJK run of one field), but
// walks fewer and sparser doclists: 营业执照 ANDs 营业执 业执照, not 营业 业执
// 执照.
func matchExpr(terms []string, fieldCols string, tri bool) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		first, n := utf8.DecodeRuneInString(t)
		_, c := fold(first)
		if c == classCJK && n == len(t) {
			b.WriteString("uni : " + quote(t))
		} else if c == classCJK && tri && utf8.RuneCountInString(t) >= 3 {
			var tb strings.Builder
			trigrams([]run{{text: t, cjk: true}}, &tb)
			b.WriteString("tri : " + quote(tb.String()))
		} else {
			b.WriteString(fieldCols + " : " + quote(column([]run{{text: t, cjk: c == classCJK}}, nil)))
		}
	}
	return b.String()
}

// tierExprs returns the expressions matching names whose key starts with
// the query's key (prefix) and names whose key is the query's (exact), and
// whether a prefix match implies that the name matches the query's terms,
// so that the prefix tier need not test them again. It does when the query's
// last run is CJK and its key is not cut at maxPrefix: each query run then
// lies whole inside a run of the name. An exact match always implies it.
func tierExprs(rs []run) (prefix, exact string, implied bool) {
	k := key(rs)
	p, n := k, 0
	for i := range k {
		if n == maxPrefix {
			p = k[:i]
			break
		}
		n++
	}
	implied = p == k && len(rs) > 0 && rs[len(rs)-1].cjk
	return "keys : " + quote(prefixMark+p), "keys : " + quote(exactMark+k), implied
}

// matcher finds query terms in a text as the index does: a CJK term inside
// a CJK run, a word term only as a whole word.
type matcher struct {
	terms [][]rune
	cjk   []bool
}

func newMatcher(terms []string) *matcher {
	m := &matcher{}
	for _, t := range terms {
		tr := []rune(t)
		if len(tr) == 0 {
			continue
		}
		_, c := fold(tr[0])
		m.terms = append(m.terms, tr)
		m.cjk = append(m.cjk, c == classCJK)
	}
	return m
}

func units(text string) []unit {
	us := make([]unit, 0, len(text)/2)
	scan(text, func(u unit) { us = append(us, u) })
	return us
}

// each calls fn for every occurrence of term k at units [i, i+n).
func (m *matcher) each(us []unit, fn func(k, i, n int)) {
	for k, tr := range m.terms {
		c := classWord
		if m.cjk[k] {
			c = classCJK
		}
		for i := 0; i+len(tr) <= len(us); i++ {
			ok := true
			for j, r := range tr {
				if u := us[i+j]; u.class != c || u.r != r {
					ok = false
					break
				}
			}
			if ok && c == classWord {
				ok = (i == 0 || us[i-1].class != classWord) && (i+len(tr) == len(us) || us[i+len(tr)].class != classWord)
			}
			if ok {
				fn(k, i, len(tr))
			}
		}
	}
}

// stats returns the folded length of text (its letters, digits and CJK
// characters) and adds each term's occurrences in it to tf.
func (m *matcher) stats(text string, tf []int) (length int) {
	us := units(text)
	for _, u := range us {
		if u.class != classSep {
			length++
		}
	}
	m.each(us, func(k, _, _ int) { tf[k]++ })
	return length
}

// foldedLen is the length stats reports, without terms.
func foldedLen(text string) int {
	n := 0
	scan(text, func(u unit) {
		if u.class != classSep {
			n++
		}
	})
	return n
}

// highlight returns text HTML-escaped with every occurrence of a term wrapped
// in <mark></mark>, and whether any term occurred. Overlapping and touching
// occurrences merge into one mark. Invalid bytes are dropped (scan skips them).
func (m *matcher) highlight(text string) (string, bool) {
	us := units(text)
	marked := make([]bool, len(us))
	found := false
	m.each(us, func(_, i, n int) {
		found = true
		for j := i; j < i+n; j++ {
			marked[j] = true
		}
	})
	if !found {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	for i, u := range us {
		if marked[i] && (i == 0 || !marked[i-1]) {
			b.WriteString("<mark>")
		}
		escape(&b, text[u.start:u.end])
		if marked[i] && (i == len(us)-1 || !marked[i+1]) {
			b.WriteString("</mark>")
		}
	}
	return b.String(), true
}

// escape writes s to b with HTML's special characters escaped.
func escape(b *strings.Builder, s string) {
	switch s {
	case "<":
		b.WriteString("&lt;")
	case ">":
		b.WriteString("&gt;")
	case "&":
		b.WriteString("&amp;")
	case `"`:
		b.WriteString("&#34;")
	case "'":
		b.WriteString("&#39;")
	default:
		b.WriteString(s)
	}
}
