package search

import "strings"

// Tokens exposes how one field text is indexed, for the tokenisation table:
// the field column's tokens (the filler between runs shown as "|") and the
// unigram column's tokens.
func Tokens(text string) (field, uni []string) {
	var u unigrams
	col := column(runs(text), &u)
	return strings.Fields(strings.ReplaceAll(col, filler, "|")), strings.Fields(u.String())
}

// MatchExpr exposes the FTS5 expression made for terms.
func MatchExpr(terms []string) string { return matchExpr(terms, "{f0 f1}", true) }

// Plain makes ix match CJK terms by bigrams only (no trigrams) and filter by
// separate region and facet tags only (no combined tags), as before both
// were indexed, so that tests can check both ways find the same.
func Plain(ix *Index, bigrams, separate bool) { ix.noTri, ix.noCombined = bigrams, separate }

// Squeeze makes ix take the paths of a large index on a small corpus: it
// loads at most w matches whole and ranks in windows of w matches. Totals
// and facet counts stay exact (see Cap).
func Squeeze(ix *Index, w int) { ix.window, ix.narrow = w, w }

// Cap makes ix count at most c matches exactly and estimate facet counts
// beyond that from samples of s matches.
func Cap(ix *Index, c, s int) { ix.countCap, ix.sampleSize = c, s }

// Implied exposes whether a prefix match implies a term match for text.
func Implied(text string) bool {
	_, _, implied := tierExprs(runs(text))
	return implied
}

// MemDocs returns how many documents the attributes in memory hold.
func MemDocs(ix *Index) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.mem.docs
}

// Trigrams exposes the trigram column's text for text (the filler between
// runs shown as "|").
func Trigrams(text string) string {
	var b strings.Builder
	trigrams(runs(text), &b)
	return strings.ReplaceAll(b.String(), filler, "|")
}
