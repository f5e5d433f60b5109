// Package catalog is the service-item catalogue (政务服务事项): the basic
// catalogue (基本目录) and the per-region, per-department implementation
// items (实施清单) with every element of the national element list
// (domain-rules §1), their lifecycle and versions, and Chinese search.
//
// Layer: above org (an item is implemented by a department in a region).
//
// This is the first increment of issue 3: the item model and its
// consistency rules (§1.4). Storage, lifecycle, search pages, import and
// export follow in later increments.
package catalog
