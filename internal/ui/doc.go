// Package ui holds the shared layout, CSS and vendored JavaScript of the portal and the console.
package ui
