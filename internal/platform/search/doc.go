// Package search is a derived Chinese full-text index (全文检索) kept in its
// own local SQLite file, apart from the main database, so that it behaves the
// same whichever engine the main database runs on. It imports no domain: a
// domain feeds it Docs (at start-up through Rebuild, afterwards through
// Upsert and Delete from outbox events) and asks it Queries.
//
// # Tokens
//
// SQLite's FTS5 finds the matches, but the application makes the tokens, so
// FTS5's own tokenizer (unicode61) only ever splits on the spaces we put in:
//
//   - Text is folded cheaply: full-width ASCII becomes half-width, letters
//     become lower case, and everything that is not a letter, digit or CJK
//     character (punctuation, symbols, spaces, emoji) is a separator.
//     Invalid UTF-8 bytes are dropped.
//   - What remains is cut into runs: a CJK run (汉字, kana, hangul) or a
//     word (a run of other letters and digits, kept whole).
//   - Each CJK run is indexed as its overlapping bigrams: 营业执照 becomes
//     the tokens 营业 业执 执照; a one-character run stays one token. Words
//     are indexed whole: "A1" becomes a1. Each text field has its own column.
//   - Every CJK character is also indexed once per document in a separate
//     unigram column, for one-character queries.
//   - Each CJK run of three or more characters is also indexed as its
//     overlapping trigrams in a trigram column shared by all fields (营业执照
//     becomes 营业执 业执照), with a filler token between runs and fields.
//     A query term of three or more CJK characters is a phrase of its
//     trigrams there, which matches the same documents as the phrase of its
//     bigrams but ANDs fewer and far sparser doclists.
//   - Between two CJK runs a filler token that no query can produce is
//     written, so a phrase never matches across a separator: "营业 业务" does
//     not match the query 营业务.
//   - A keys column holds, as single tokens, the name's key (the first
//     field's runs joined by the filler) and each of its first maxPrefix
//     prefixes, so that "the name is the query" and "the name starts with
//     the query" read only the short doclist of one token.
//   - Region and facet values are tokens of a tags column: the region as each
//     of its prefixes, a facet value as its facet number and hex bytes. Filters
//     are thus part of the FTS5 expression and never join another table.
//     Each facet value is also indexed combined with the region's prefixes
//     of two, four and six digits (province, city, county): a query that
//     filters on such a prefix and on facets ANDs the facets' combined
//     tokens, one sparse doclist each, instead of the dense doclists of the
//     region and of each value.
//
// A query is folded and cut the same way. Its runs (its terms) are ANDed;
// a CJK run of two characters becomes an FTS5 phrase of its bigram, one of
// three or more a phrase of its trigrams,
// a single CJK character is looked up in the unigram column and a word is
// matched whole. Every token is written as a quoted FTS5 string, so FTS5
// operators typed by users (AND, OR, NEAR, *, ^, ", :) are inert text.
//
// # Ranking
//
// Hits are ordered in tiers: names whose key equals the query's (the same
// runs after folding: 护照签发 for 护照签发, or for "护照签发!", but not for
// 护照 签发), then names whose key starts with the query's (护照签发进度查询
// for 护照), then the rest. Within a tier they are ordered by BM25F over the
// text fields with the schema's weights (computed here from the stored
// texts, each field's length against its average), then Boost (popularity),
// then ID. A query with no text lists by Boost.
//
// Ranking every match costs a few microseconds per match, so a broad query
// (more than narrowMax, 100, matches; say 社保 over 590,000 names) is
// ranked in windows instead: Rebuild numbers documents by descending Boost,
// each tier is cut into consecutive windows of rankWindow (50) matches in
// that order, and each window is sorted by the rules above. The
// best-scoring names among the most popular matches come first, a page
// costs the windows it touches, and pages never overlap or skip. A query
// with at most narrowMax matches is ranked exactly. Documents added by
// Upsert are numbered after all others and so sort as least popular until
// the next Rebuild.
//
// # Totals and facets
//
// Counting every match of a broad query (社保 over 590,000 names: 29,500
// matches) costs a pass over all of them, several times the rest of the
// search, and a facet count costs one such pass per value. So Search
// counts only up to CountCap (100) matches. Its first step reads the
// numbers of the first CountCap+1 matches in document-number order (in one
// row, through group_concat):
//
//   - At most CountCap matches: Total is exact (Result.TotalExact) and so
//     are the facet counts (Result.FacetsExact).
//   - More: Total is CountCap and TotalExact is false, meaning "more than
//     Total" (show it as "100 多条" or "超过 100 条"). The facets are
//     counted over the first CountCap matches, that is the most popular
//     ones, and FacetsExact is false: the counts show how those matches
//     divide, not how many there are in all, and a value only less popular
//     matches carry is missing.
//
// Query.Exact counts every match all the same, for pages that show the
// counts of a whole category and can cache them: a listing of a whole
// province costs a pass over all its items.
//
// Estimating the total from the first matches was tried and dropped:
// documents are numbered by popularity, which is not independent of the
// text, and on the benchmark corpus the estimates were off by up to ten
// times. Pages are unaffected: the ranking tiers are counted only as far as
// the requested page needs, so every page holds the hits it would hold
// with exact counts, and a page past the real end is simply empty.
//
// Facet counts are disjunctive: the counts for facet F are taken over the
// matches that satisfy the text, the region and every filter except F's
// own, so a user who ticked 行政许可 still sees how many hits 行政确认 would
// add. Values inside one facet's filter are ORed; different facets are
// ANDed. They are counted from each document's facet tags, which the
// Index holds in memory by document number (read from the docs table at
// Open, changed as each write commits): counting costs no query. Facets
// without a filter of their own are counted over the query's first matches. A query that
// counts a facet it also filters on first reads its selection without its
// facet filters, up to 2×CountCap matches: when that is all of them, the
// hits and every count, exact, follow from that one pass; otherwise the
// filtered facets are counted over those of its first CountCap matches
// that pass the other filters (FacetsExact false), and the hits come from
// a second pass. Only a listing
// that filters on a facet alone counts that facet over the whole index.
//
// # Storage and concurrency
//
// The file holds one contentless FTS5 table (a column per field, the unigram,
// tags, keys and trigram columns), a docs table (number, id, region, boost, facet
// tags and the original texts, for ranking, highlighting and facet counts),
// a facets table (facet, value, doc) and the field length totals. It is
// opened in WAL mode with a busy timeout and memory-mapped; writes go
// through a one-connection pool and searches through a small reader pool,
// each search inside one read transaction so that its hits, total and
// facet counts come from one snapshot. The facet tags in memory follow the
// same snapshot: a search holds a read lock for its transaction, and a
// write updates them under the write lock as it commits. Within a search,
// the matches of each FTS5 expression are read once, in batches, and
// reused by every later step that walks the same expression (the rest
// tier's pages walk the selection that the first matches came from). Rebuild stages the documents in a
// temporary table and replaces all tables inside a single write
// transaction, so readers keep seeing the old index until it commits and
// the new one after, never a mixture; it then checkpoints the WAL into the
// file without waiting for readers. The index is derived data: deleting
// the file and rebuilding loses nothing.
package search
