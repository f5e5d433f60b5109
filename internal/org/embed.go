package org

import "io/fs"

func subFS() (fs.FS, error) { return fs.Sub(templatesFS, "templates") }
