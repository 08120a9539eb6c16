package consentapi

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// consentIDBytes is the randomness of a consent id: 128 bits, not guessable.
const consentIDBytes = 16

// consentIDLen is the length of a consent id: URL-safe base64 without
// padding (no "." so it fits the consent cookie).
var consentIDLen = base64.RawURLEncoding.EncodedLen(consentIDBytes)

// newConsentID returns a fresh random consent id.
func newConsentID() string {
	var b [consentIDBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validConsentID reports whether id has the form of an id this service
// issues.
func validConsentID(id string) bool {
	if len(id) != consentIDLen {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool { return r >= 128 || !isTokenByte(byte(r)) }) < 0
}

// uaFamily reduces a User-Agent to a coarse browser family; the header
// itself is never stored (R24).
func uaFamily(ua string) string {
	switch {
	case ua == "":
		return "other"
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "EdgA/") || strings.Contains(ua, "EdgiOS/"):
		return "edge"
	case strings.Contains(ua, "OPR/") || strings.Contains(ua, "Opera"):
		return "opera"
	case strings.Contains(ua, "Firefox/") || strings.Contains(ua, "FxiOS/"):
		return "firefox"
	case strings.Contains(ua, "SamsungBrowser/"):
		return "samsung"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS/") || strings.Contains(ua, "Chromium/"):
		return "chrome"
	case strings.Contains(ua, "Safari/") || strings.Contains(ua, "AppleWebKit/"):
		return "safari"
	default:
		return "other"
	}
}
