package org

import "testing"

func TestTemplatesParse(t *testing.T) {
	if _, err := Pages(); err != nil {
		t.Fatal(err)
	}
}
