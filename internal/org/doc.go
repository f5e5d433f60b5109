// Package org is the organisation model of the platform: regions
// (行政区划, GB/T 2260 codes, loaded as dated reference data), government
// departments (部门) with their unified social credit codes and hierarchy,
// service halls (政务服务大厅) and their windows (窗口).
//
// Layer: bottom (with calendar). It imports only platform packages.
//
// Invariants:
//   - A region's level and parent follow from its code: xx0000 province,
//     xxxx00 prefecture, other 6-digit codes county, 9-digit codes township.
//   - A department's path is its ancestry "/root/…/self/"; a department lies
//     in a region inside its parent's region, and never under itself.
//     Creating or moving a department first locks it and its parent with a
//     guarded no-op UPDATE (lockPlace), so concurrent tree changes are
//     serialised on PostgreSQL too and never leave a stale path or a cycle.
//   - Every change is checked against the caller's grants (authz) and
//     audited in the same transaction.
package org
