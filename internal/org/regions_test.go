package org_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// today is the date regions are loaded as valid from.
const today = "2026-11-25"

func TestLoadRegions(t *testing.T) {
	t.Parallel()
	all, err := org.Divisions()
	if err != nil {
		t.Fatal(err)
	}
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := t.Context()
			n, err := org.LoadRegions(ctx, eng.DB, today)
			if err != nil {
				t.Fatalf("LoadRegions: %v", err)
			}
			if n != len(all) || n < 3000 {
				t.Errorf("LoadRegions wrote %d rows, want %d (every division)", n, len(all))
			}
			recs, total, err := audit.List(ctx, eng.DB, audit.Query{Action: "org.regions.load"}, "1 = 1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(recs) != 1 {
				t.Fatalf("audit entries org.regions.load = %d, want 1", total)
			}
			if r := recs[0]; r.Action != "org.regions.load" || r.TargetType != "dataset" || r.TargetID != "regions" || r.ActorID != audit.System.ID {
				t.Errorf("audit entry = %+v, want org.regions.load of dataset regions by the system", r)
			}

			n, err = org.LoadRegions(ctx, eng.DB, "2026-11-26")
			if err != nil || n != 0 {
				t.Errorf("second LoadRegions = %d, %v; want 0 rows written", n, err)
			}
			if _, total, _ := audit.List(ctx, eng.DB, audit.Query{}, "1 = 1", nil); total != 1 {
				t.Errorf("audit entries after a second load = %d, want still 1", total)
			}
			if rep, err := audit.Verify(ctx, eng.DB); err != nil || !rep.OK {
				t.Errorf("audit.Verify = %+v, %v; want OK", rep, err)
			}
		})
	}
}

func TestRegionQueries(t *testing.T) {
	t.Parallel()
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			svc := newService(t, eng)
			ctx := t.Context()

			t.Run("leagues and cities of Inner Mongolia", func(t *testing.T) {
				cities, err := svc.Children(ctx, "150000", false)
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"150100", "150200", "150300", "150400", "150500", "150600", "150700", "150800", "150900", "152200", "152500", "152900"}
				if diff := cmp.Diff(want, codes(cities)); diff != "" {
					t.Errorf("Children(150000) mismatch (-want +got):\n%s", diff)
				}
				for _, c := range cities {
					if c.Level != org.City || c.Parent != "150000" || c.Zone {
						t.Errorf("Children(150000) has %+v, want a city under 150000", c)
					}
				}
			})

			t.Run("county-level divisions", func(t *testing.T) {
				cities, err := svc.Children(ctx, "150000", false)
				if err != nil {
					t.Fatal(err)
				}
				counts := map[bool]int{}
				zones := 0
				for _, withZones := range []bool{false, true} {
					for _, c := range cities {
						ks, err := svc.Children(ctx, c.Code, withZones)
						if err != nil {
							t.Fatal(err)
						}
						for _, k := range ks {
							if k.Name == "市辖区" {
								continue
							}
							if k.Level != org.County || k.Parent != c.Code {
								t.Errorf("Children(%s) has %+v, want a county under %s", c.Code, k, c.Code)
							}
							if k.Zone != org.IsZone(k.Code) || (k.Zone && !withZones) {
								t.Errorf("Children(%s, %v) has %+v with the wrong zone flag", c.Code, withZones, k)
							}
							if k.Zone {
								zones++
							}
							counts[withZones]++
						}
					}
				}
				if counts[false] != 103 || counts[true] != 108 || zones != 5 {
					t.Errorf("county-level children = %d without zones, %d with (%d zones); want 103, 108 (5)", counts[false], counts[true], zones)
				}
			})

			tests := []struct {
				name, code string
				want       org.Region
				wantErr    bool
				kind       errs.Kind
			}{
				{name: "province", code: "110000", want: org.Region{Code: "110000", Name: "北京市", Level: org.Province}},
				{name: "autonomous region", code: "150000", want: org.Region{Code: "150000", Name: "内蒙古自治区", Level: org.Province}},
				{name: "city", code: "150100", want: org.Region{Code: "150100", Name: "呼和浩特市", Level: org.City, Parent: "150000"}},
				{name: "county", code: "150102", want: org.Region{Code: "150102", Name: "新城区", Level: org.County, Parent: "150100"}},
				{name: "zone", code: "150172", want: org.Region{Code: "150172", Name: "呼和浩特经济技术开发区", Level: org.County, Parent: "150100", Zone: true}},
				{name: "township", code: "150102001", want: org.Region{Code: "150102001", Name: "海拉尔东路街道", Level: org.Township, Parent: "150102"}},
				{name: "township 12 digits", code: "150102001000", want: org.Region{Code: "150102001", Name: "海拉尔东路街道", Level: org.Township, Parent: "150102"}},
				{name: "unknown county", code: "150199", wantErr: true, kind: errs.NotFound},
				{name: "unknown township", code: "150102999", wantErr: true, kind: errs.NotFound},
				{name: "unknown province", code: "990000", wantErr: true, kind: errs.NotFound},
				{name: "malformed", code: "15x100", wantErr: true, kind: errs.NotFound},
				{name: "empty", code: "", wantErr: true, kind: errs.NotFound},
			}
			for _, tc := range tests {
				t.Run("Region "+tc.name, func(t *testing.T) {
					got, err := svc.Region(ctx, tc.code)
					if tc.wantErr {
						if err == nil || errs.KindOf(err) != tc.kind {
							t.Fatalf("Region(%q) = %+v, %v; want kind %v", tc.code, got, err, tc.kind)
						}
						return
					}
					if err != nil {
						t.Fatalf("Region(%q): %v", tc.code, err)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("Region(%q) mismatch (-want +got):\n%s", tc.code, diff)
					}
				})
			}

			t.Run("Ancestry", func(t *testing.T) {
				got, err := svc.Ancestry(ctx, "150102001")
				if err != nil {
					t.Fatal(err)
				}
				want := []org.Region{
					{Code: "150000", Name: "内蒙古自治区", Level: org.Province},
					{Code: "150100", Name: "呼和浩特市", Level: org.City, Parent: "150000"},
					{Code: "150102", Name: "新城区", Level: org.County, Parent: "150100"},
					{Code: "150102001", Name: "海拉尔东路街道", Level: org.Township, Parent: "150102"},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Ancestry(150102001) mismatch (-want +got):\n%s", diff)
				}
				if _, err := svc.Ancestry(ctx, "150199"); errs.KindOf(err) != errs.NotFound {
					t.Errorf("Ancestry(150199) error = %v, want kind NotFound", err)
				}
			})

			t.Run("every Inner Mongolia township has its county", func(t *testing.T) {
				all, err := org.Divisions()
				if err != nil {
					t.Fatal(err)
				}
				seen := 0
				for _, r := range all {
					if r.Level != org.Township {
						continue
					}
					seen++
					if _, err := svc.Region(ctx, r.Parent); err != nil {
						t.Errorf("township %s %s: parent %s: %v", r.Code, r.Name, r.Parent, err)
					}
				}
				if seen < 1000 {
					t.Errorf("Divisions has %d townships, want Inner Mongolia's (>1000)", seen)
				}
			})

			t.Run("Children", func(t *testing.T) {
				with, err := svc.Children(ctx, "150100", true)
				if err != nil {
					t.Fatal(err)
				}
				without, err := svc.Children(ctx, "150100", false)
				if err != nil {
					t.Fatal(err)
				}
				if len(with) != len(without)+1 || with[len(with)-1].Code != "150172" {
					t.Errorf("Children(150100) = %v with zones, %v without; want 150172 only with zones", codes(with), codes(without))
				}
				towns, err := svc.Children(ctx, "150102", false)
				if err != nil || len(towns) == 0 || towns[0].Code != "150102001" || towns[0].Level != org.Township {
					t.Errorf("Children(150102) = %v, %v; want its townships from 150102001", codes(towns), err)
				}
				if _, err := svc.Children(ctx, "150199", true); errs.KindOf(err) != errs.NotFound {
					t.Errorf("Children(150199) error = %v, want kind NotFound", err)
				}
			})
		})
	}
}

// TestLoadRegionsNewDataset checks that a code dropped from the dataset is
// kept but no longer current, and that a reload brings renamed codes back.
func TestLoadRegionsNewDataset(t *testing.T) {
	t.Parallel()
	all, err := org.Divisions()
	if err != nil {
		t.Fatal(err)
	}
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			svc := newService(t, eng)
			ctx := t.Context()
			for _, q := range []string{
				`INSERT INTO regions (code, name, level, parent_code, zone, dataset, valid_from) VALUES ('150199', '旧区', 3, '150100', FALSE, 'old', '2020-01-01')`,
				`UPDATE regions SET name = '改名', dataset = 'old' WHERE code = '150102'`,
				`UPDATE reference_datasets SET version = 'old' WHERE name = 'regions'`,
			} {
				if _, err := eng.DB.W.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			n, err := org.LoadRegions(ctx, eng.DB, "2026-12-01")
			if err != nil || n != len(all) {
				t.Fatalf("LoadRegions after a dataset change = %d, %v; want %d", n, err, len(all))
			}
			if _, err := svc.Region(ctx, "150199"); errs.KindOf(err) != errs.NotFound {
				t.Errorf("Region(150199) after it left the dataset: %v, want kind NotFound", err)
			}
			var validTo string
			if err := eng.DB.R.QueryRowContext(ctx, `SELECT valid_to FROM regions WHERE code = '150199'`).Scan(&validTo); err != nil || validTo != "2026-12-01" {
				t.Errorf("dropped region valid_to = %q, %v; want kept with 2026-12-01", validTo, err)
			}
			if r, err := svc.Region(ctx, "150102"); err != nil || r.Name != "新城区" {
				t.Errorf("Region(150102) after reload = %+v, %v; want 新城区", r, err)
			}
			if _, total, _ := audit.List(ctx, eng.DB, audit.Query{Action: "org.regions.load"}, "1 = 1", nil); total != 2 {
				t.Errorf("org.regions.load entries = %d, want 2", total)
			}
		})
	}
}

func codes(rs []org.Region) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}
