// Package catalog is the service-item catalogue (政务服务事项): the basic
// catalogue (基本目录) and the per-region, per-department implementation
// items (实施清单) with every element of the national element list
// (domain-rules §1) and the §1.4 consistency rules; their review lifecycle
// with immutable published versions; the console editor; Excel/CSV import
// and export; the citizen guide, search and theme pages; and the item
// search index kept current from outbox events.
//
// Layer 2: above org (an item is implemented by a department in a region)
// and staff.
package catalog
