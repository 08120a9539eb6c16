package consentapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/labstack/echo/v4"
)

// apiError is a problem with a request, answered with its status and a
// JSON body naming the problem and, for validation errors, the field.
type apiError struct {
	status     int
	msg        string
	field      string
	retryAfter int // seconds, for 429 and 503
	// storeDown: a 503 because the store is unavailable, counted in
	// crumb_store_errors_total (classify sets it); other 503s are not.
	storeDown bool
}

func (e *apiError) Error() string {
	if e.field != "" {
		return fmt.Sprintf("%d %s: %s", e.status, e.field, e.msg)
	}
	return fmt.Sprintf("%d %s", e.status, e.msg)
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func badField(field, format string, a ...any) error {
	return &apiError{status: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, a...)}
}

func errStatus(status int, format string, a ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

// statusClientClosed is the status of a request whose client went away
// before it was answered (nginx's 499, not a standard code): nobody reads
// the answer; it is for the request log and the duration metric, where it
// stays apart from both client errors and server failures.
const statusClientClosed = 499

// handleError is the one place errors become HTTP answers; it is installed
// as echo's HTTPErrorHandler. Only unexpected errors are logged, as
// "internal error" answers; a store that is unavailable is counted
// (crumb_store_errors_total, which alerts) and logged as a warning, but
// not when the client went away first.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.logger.Error("error after the answer started", "route", c.Path(), "err", err)
		return
	}
	ae := s.classify(err)
	if clientGone(c.Request().Context(), err) {
		s.logger.Debug("client went away", "route", c.Path(), "err", err)
		ae = &apiError{status: statusClientClosed, msg: "the client closed the request before it was answered"}
	}
	if ae.status == http.StatusInternalServerError {
		s.logger.Error("internal error", "route", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	}
	if ae.status == http.StatusServiceUnavailable && ae.storeDown {
		s.metrics.storeErrors.WithLabelValues(routeLabel(c)).Inc()
		s.logger.Warn("store unavailable", "route", c.Path(), "err", err)
	}
	if ae.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	// HEAD too: net/http sends a HEAD answer's headers, not its body, so
	// it gets the Content-Type and Content-Length GET would.
	c.JSON(ae.status, errorBody{Error: ae.msg, Field: ae.field})
}

// clientGone reports whether err ended a request because its client went
// away: the error is context.Canceled, or the request's context was
// cancelled (net/http does when the connection closes) and the error says
// the store is unavailable, as a store that does not keep the cause (or
// wraps it) may. Either way the store did not fail.
func clientGone(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	return errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, store.ErrUnavailable)
}

// classify maps an error to its answer.
func (s *Server) classify(err error) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrUnknownBanner):
		return &apiError{status: http.StatusBadRequest, field: "banner", msg: "not a banner this site has served"}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{status: http.StatusNotFound, msg: "not found"}
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusServiceUnavailable, msg: "storage is unavailable; retry with the same event_id", retryAfter: 1, storeDown: true}
	case errors.As(err, &he):
		msg := strings.ToLower(http.StatusText(he.Code))
		if m, ok := he.Message.(string); ok && m != "" && m != http.StatusText(he.Code) {
			msg = m
		}
		return &apiError{status: he.Code, msg: msg}
	default:
		return &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	}
}
