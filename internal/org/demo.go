package org

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/idcode"
)

// The demo province's departments. Names follow the usual structure of
// people's governments at each level; unified social credit codes are
// generated (valid check characters, category 11 机关) and are not the
// real codes of these bodies.
var (
	demoProvinceDepts = []string{
		"政务服务与数据管理局", "发展和改革委员会", "教育厅", "公安厅", "民政厅", "司法厅", "财政厅",
		"人力资源和社会保障厅", "自然资源厅", "生态环境厅", "住房和城乡建设厅", "交通运输厅", "水利厅",
		"农牧厅", "商务厅", "文化和旅游厅", "卫生健康委员会", "退役军人事务厅", "应急管理厅",
		"市场监督管理局", "医疗保障局", "林业和草原局", "能源局", "民族事务委员会",
	}
	demoProvinceSubDepts = map[string][]string{
		"公安厅":     {"公安厅交通管理局", "公安厅出入境管理局"},
		"市场监督管理局": {"市场监督管理局登记注册局"},
	}
	demoCityDepts = []string{
		"政务服务与数据管理局", "发展和改革委员会", "教育局", "公安局", "民政局", "司法局", "财政局",
		"人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "农牧局",
		"卫生健康委员会", "市场监督管理局", "医疗保障局", "退役军人事务局",
	}
	demoCountyDepts = []string{
		"政务服务局", "公安局", "民政局", "人力资源和社会保障局", "市场监督管理局", "卫生健康委员会", "自然资源局",
	}
)

// demoUSCC returns a valid, stable credit code for a government body.
func demoUSCC(region, name string) string {
	h := fnv.New32a()
	h.Write([]byte(region + name))
	body := fmt.Sprintf("1%07d", h.Sum32()%10000000)
	code, err := idcode.NewUSCC('1', '1', region, body)
	if err != nil {
		panic(err) // digits only: cannot fail
	}
	return code
}

// DemoResult names what SeedDemo created, for the staff seed and tests.
type DemoResult struct {
	Departments int
	Halls       int
	Windows     int
	DeptIDs     map[string]string // "150000/市场监督管理局" → id
	HallID      string            // the autonomous-region hall
}

// SeedDemo creates the demo province's departments, halls and windows
// through the service (so every row is validated and audited), acting as
// the system with a platform-admin grant on province.
func (s *Service) SeedDemo(ctx context.Context, province string) (DemoResult, error) {
	ctx = audit.WithActor(ctx, audit.System)
	sys := &authz.Principal{UserID: "system", Name: "系统", Grants: []authz.Grant{{Role: authz.PlatformAdmin, Region: province}}}
	res := DemoResult{DeptIDs: map[string]string{}}
	prov, err := s.Region(ctx, province)
	if err != nil {
		return res, err
	}
	short := strings.TrimSuffix(strings.TrimSuffix(prov.Name, "自治区"), "省")
	create := func(region, prefix, name, parentID string, sort int) (Department, error) {
		full := prefix + name
		d, err := s.CreateDepartment(ctx, sys, DeptInput{Name: full, ShortName: name, USCC: demoUSCC(region, full), Region: region, ParentID: parentID, Sort: sort})
		if err != nil {
			return d, fmt.Errorf("org.SeedDemo: %s: %w", full, err)
		}
		res.Departments++
		res.DeptIDs[region+"/"+name] = d.ID
		return d, nil
	}
	provPrefix := "自治区"
	if !strings.HasSuffix(prov.Name, "自治区") {
		provPrefix = short + "省"
	}
	for i, name := range demoProvinceDepts {
		d, err := create(prov.Code, provPrefix, name, "", i+1)
		if err != nil {
			return res, err
		}
		for j, sub := range demoProvinceSubDepts[name] {
			if _, err := create(prov.Code, provPrefix, sub, d.ID, j+1); err != nil {
				return res, err
			}
		}
	}
	cities, err := s.Children(ctx, prov.Code, false)
	if err != nil {
		return res, err
	}
	for _, c := range cities {
		for i, name := range demoCityDepts {
			if _, err := create(c.Code, c.Name, name, "", i+1); err != nil {
				return res, err
			}
		}
		counties, err := s.Children(ctx, c.Code, false)
		if err != nil {
			return res, err
		}
		for _, k := range counties {
			if k.Name == "市辖区" {
				continue
			}
			for i, name := range demoCountyDepts {
				if _, err := create(k.Code, k.Name, name, "", i+1); err != nil {
					return res, err
				}
			}
		}
	}
	hours := "周一至周五 上午9:00-12:00，下午13:30-17:00（法定节假日除外）"
	provHall, err := s.CreateHall(ctx, sys, HallInput{Name: prov.Name + "政务服务中心", Region: prov.Code, Address: short + "自治区首府呼和浩特市", Phone: "12345", Hours: hours})
	if err != nil {
		return res, fmt.Errorf("org.SeedDemo: hall: %w", err)
	}
	res.Halls++
	res.HallID = provHall.ID
	windows := []WindowInput{}
	for i := 1; i <= 8; i++ {
		windows = append(windows, WindowInput{Number: fmt.Sprintf("A%02d", i), Name: fmt.Sprintf("综合受理%d号窗口", i), Kind: Comprehensive})
	}
	for i, name := range []string{"公安厅", "市场监督管理局", "人力资源和社会保障厅", "医疗保障局", "住房和城乡建设厅", "自然资源厅"} {
		windows = append(windows, WindowInput{Number: fmt.Sprintf("B%02d", i+1), Name: provPrefix + name + "窗口", Kind: Specialized, DeptID: res.DeptIDs[prov.Code+"/"+name]})
	}
	windows = append(windows,
		WindowInput{Number: "C01", Name: "统一出件窗口", Kind: Pickup},
		WindowInput{Number: "C02", Name: "咨询导办台", Kind: Consult},
		WindowInput{Number: "C03", Name: "“办不成事”反映窗口", Kind: Help},
	)
	for _, w := range windows {
		if _, err := s.CreateWindow(ctx, sys, provHall.ID, w); err != nil {
			return res, fmt.Errorf("org.SeedDemo: window %s: %w", w.Number, err)
		}
		res.Windows++
	}
	if len(cities) > 0 {
		c := cities[0]
		cityHall, err := s.CreateHall(ctx, sys, HallInput{Name: c.Name + "政务服务中心", Region: c.Code, Phone: "12345", Hours: hours})
		if err != nil {
			return res, fmt.Errorf("org.SeedDemo: city hall: %w", err)
		}
		res.Halls++
		for i := 1; i <= 4; i++ {
			if _, err := s.CreateWindow(ctx, sys, cityHall.ID, WindowInput{Number: fmt.Sprintf("%d", i), Name: fmt.Sprintf("综合受理%d号窗口", i), Kind: Comprehensive}); err != nil {
				return res, err
			}
			res.Windows++
		}
	}
	return res, nil
}
