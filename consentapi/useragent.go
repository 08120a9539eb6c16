package consentapi

import "strings"

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
