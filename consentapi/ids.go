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
