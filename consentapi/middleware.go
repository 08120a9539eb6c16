package consentapi

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Keys of values the middleware leaves on the request context.
const (
	ctxSite       = "crumb.site"
	ctxSameOrigin = "crumb.same_origin"
)

func siteOf(c echo.Context) *site { return c.Get(ctxSite).(*site) }

// sameOriginOf returns the Origin of a request that came through the
// site's own origin (a reverse-proxied path), or "".
func sameOriginOf(c echo.Context) string {
	o, _ := c.Get(ctxSameOrigin).(string)
	return o
}

// public guards the visitor routes: the site must exist (404), a
// cross-origin caller must be one of the site's origins (403, CORS
// answered for the allowed ones, preflights included) and the client IP
// must be within its rate (429).
func (s *Server) public(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		si, ok := s.sites[c.Param("site")]
		if !ok {
			return errStatus(http.StatusNotFound, "unknown site %q", c.Param("site"))
		}
		c.Set(ctxSite, si)
		req, h := c.Request(), c.Response().Header()
		if v, ok := h[echo.HeaderVary]; ok {
			h[echo.HeaderVary] = append(v, echo.HeaderOrigin)
		} else {
			h[echo.HeaderVary] = varyOrigin
		}
		origin := req.Header.Get(echo.HeaderOrigin)
		preflight := req.Method == http.MethodOptions
		switch {
		case origin == "":
			// Not a browser's cross-origin call: a server, or a same-origin
			// GET. CORS does not apply.
		case isSameOrigin(origin, req.Host):
			c.Set(ctxSameOrigin, origin)
		case si.origins[strings.ToLower(origin)]:
			h.Set(echo.HeaderAccessControlAllowOrigin, origin)
			h.Set(echo.HeaderAccessControlExposeHeaders, "Retry-After")
			if preflight {
				h.Set(echo.HeaderAccessControlAllowMethods, "GET, POST, DELETE")
				h.Set(echo.HeaderAccessControlAllowHeaders, "Content-Type")
				h.Set(echo.HeaderAccessControlMaxAge, "600")
			}
		default:
			return errStatus(http.StatusForbidden, "origin %s is not allowed for site %s", origin, si.cfg.ID)
		}
		if preflight {
			return c.NoContent(http.StatusNoContent)
		}
		if s.limiter != nil {
			if wait, ok := s.limiter.allow(c.RealIP()); !ok {
				s.metrics.rateLimited.WithLabelValues(routeLabel(c)).Inc()
				return &apiError{status: http.StatusTooManyRequests, msg: "too many requests; retry later", retryAfter: wait}
			}
		}
		return next(c)
	}
}

// varyOrigin is the Vary header of the public routes' answers, shared:
// net/http copies header values when it writes them, and an append to it
// makes a new slice (its capacity is its length).
var varyOrigin = []string{echo.HeaderOrigin}

// isSameOrigin reports whether origin names the host the request was sent
// to: the API reached through the site's own origin.
func isSameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// requireToken guards a route with a bearer token, compared in constant
// time (the scheme "Bearer" in any case, RFC 9110 §11.1). An empty token
// means the routes are off: 404, as if absent.
func requireToken(token string) echo.MiddlewareFunc {
	want := []byte(token)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if token == "" {
				return errStatus(http.StatusNotFound, "not found")
			}
			scheme, got, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
			if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="crumb"`)
				return errStatus(http.StatusUnauthorized, "missing or wrong bearer token")
			}
			return next(c)
		}
	}
}

// observe is the outermost middleware: it recovers panics, answers errors
// through the error handler so that the final status is known, and
// records the request's duration and logs it (no IP, no consent id).
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		start := time.Now()
		c.Response().Header().Set(echo.HeaderXRequestID, s.requestID())
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				err = fmt.Errorf("panic: %v", p)
			}
			if err != nil {
				c.Error(err)
				err = nil
			}
			status := c.Response().Status
			route := routeLabel(c)
			s.metrics.observe(route, c.Request().Method, status, time.Since(start))
			if s.logger.Enabled(c.Request().Context(), levelFor(status)) {
				s.logger.Log(c.Request().Context(), levelFor(status), "request",
					"method", c.Request().Method, "route", route, "status", status,
					"duration_ms", float64(time.Since(start).Microseconds())/1000,
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			}
		}()
		return next(c)
	}
}

// routeLabel is the route template, or "unmatched", never the raw path.
func routeLabel(c echo.Context) string {
	if p := c.Path(); p != "" && !strings.HasSuffix(p, "/*") {
		return p
	}
	return "unmatched"
}

var requestSeq atomic.Uint64

// requestID is a process-unique id for correlating logs with answers.
func (s *Server) requestID() string {
	return s.idPrefix + strconv.FormatUint(requestSeq.Add(1), 36)
}
