package catalog

// SetAfterBuild makes a background rebuild of f call fn once it has built
// its new file, before it replays the changes recorded meanwhile.
func SetAfterBuild(f *Finder, fn func()) { f.afterBuild = fn }

// WaitRebuild waits for a background rebuild of f to end.
func WaitRebuild(f *Finder) { f.bg.Wait() }

// IndexFile returns the name of the index file f serves from.
func IndexFile(f *Finder) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.name
}
