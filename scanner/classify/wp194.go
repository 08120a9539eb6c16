package classify

import (
	"slices"
	"strings"
)

// justifications are the consent exemptions of the Article 29 Working
// Party's Opinion 04/2012 on Cookie Consent Exemption (WP194) that a
// Necessary verdict may rest on (R32), by the code the knowledge base uses.
// Criterion A: the sole purpose is carrying out the transmission of a
// communication. Criterion B: strictly necessary for a service the user
// explicitly asked for. Section 3 lists the cookie types the Working Party
// found exempt under conditions.
var justifications = map[string]string{
	"A-lb":       "WP194 criterion A, §3.5 load-balancing cookie: routes the visitor's requests to the same server for the session",
	"B-input":    "WP194 criterion B, §3.1 user-input cookie: keeps the session, form or basket the visitor is filling in",
	"B-auth":     "WP194 criterion B, §3.2 authentication cookie: keeps a visitor who logged in signed in",
	"B-security": "WP194 criterion B, §3.3 user-centric security cookie: protects the service the visitor uses against abuse (forged requests, bots, attacks)",
	"B-player":   "WP194 criterion B, §3.4 multimedia player session cookie: technical data the player needs to play what the visitor started",
	"B-ui":       "WP194 criterion B, §3.6 user-interface customisation cookie: remembers a setting the visitor chose (such as the language)",
	"B-consent":  "WP194 criterion B, §3.6 user-interface customisation cookie: remembers the visitor's own consent choice so the banner is not shown again",
}

func justificationCodes() string {
	codes := make([]string, 0, len(justifications))
	for c := range justifications {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return strings.Join(codes, ", ")
}
