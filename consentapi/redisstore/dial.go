package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts and retries set on every client Dial makes, unless the URL sets
// them (go-redis query parameters such as dial_timeout, read_timeout,
// max_retries).
const (
	DialTimeout     = 2 * time.Second
	ReadTimeout     = time.Second
	WriteTimeout    = time.Second
	PoolTimeout     = 2 * time.Second
	MaxRetries      = 2
	MinRetryBackoff = 8 * time.Millisecond
	MaxRetryBackoff = 256 * time.Millisecond
)

// Dial makes a client from one URL; the scheme picks the deployment:
//
//	redis://[user:pass@]host:6379[/db]      a standalone server (rediss:// for TLS)
//	unix://[user:pass@]/run/redis.sock[?db=0]
//	                                         a standalone server on a unix socket
//	redis-sentinel://[user:pass@]s1:26379[,s2:26379…]/mymaster[/db]
//	                                         the master Sentinel names mymaster
//	                                         (rediss-sentinel:// for TLS)
//	redis-cluster://[user:pass@]n1:6379[,n2:6379…]
//	                                         a Redis Cluster (rediss-cluster:// for TLS)
//
// In every scheme user:pass is what the data servers take (the master and
// the replicas, as their requirepass or an ACL user); a password needs its
// reserved characters percent-encoded (%40 for @, %2F for /, %25 for %).
// Sentinels that have a password of their own (their requirepass) take it
// from the query parameters sentinel_password (and sentinel_username for an
// ACL user), which only redis-sentinel:// URLs accept.
//
// go-redis query parameters (dial_timeout, read_timeout, pool_size, …) are
// honoured. The returned client has explicit timeouts and retries. No error
// Dial returns contains the URL's passwords.
func Dial(rawURL string) (redis.UniversalClient, error) {
	c, err := dial(rawURL)
	if err != nil {
		return nil, scrub(rawURL, err)
	}
	return c, nil
}

func dial(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if u.Scheme != "redis-sentinel" && u.Scheme != "rediss-sentinel" {
		for _, k := range sentinelParams {
			if q.Has(k) {
				return nil, fmt.Errorf("%s is for redis-sentinel:// URLs only", k)
			}
		}
	}
	if u.Scheme != "redis-sentinel" && u.Scheme != "rediss-sentinel" && (q.Has("username") || q.Has("password")) {
		// go-redis takes the credentials from the userinfo only.
		if u.User != nil {
			return nil, errors.New("give the password either before the host (user:password@) or as ?password=, not both")
		}
		u.User = url.UserPassword(q.Get("username"), q.Get("password"))
		q.Del("username")
		q.Del("password")
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, err
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), nil
	case "redis-sentinel", "rediss-sentinel":
		o, err := parseSentinel(u, q)
		if err != nil {
			return nil, err
		}
		if err := masterOnly(o.RouteByLatency, o.RouteRandomly, o.ReplicaOnly); err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(o), nil
	case "redis-cluster", "rediss-cluster":
		hosts, _, _, ok := splitHosts(u)
		if !ok {
			return nil, fmt.Errorf("want %s://host:6379[,host:6379…]", u.Scheme)
		}
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		base := *u
		base.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
		base.Host, base.Path, base.RawPath, base.RawQuery = hosts[0], "", "", q.Encode()
		o, err := redis.ParseClusterURL(base.String())
		if err != nil {
			return nil, err
		}
		if err := masterOnly(o.RouteByLatency, o.RouteRandomly, o.ReadOnly); err != nil {
			return nil, err
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(o), nil
	default:
		return nil, fmt.Errorf("scheme %q: want redis, rediss, unix, redis-sentinel or redis-cluster", u.Scheme)
	}
}

// masterOnly refuses the go-redis options that send commands to replicas
// (route_by_latency, route_randomly, and replica_only or read_only): crumb
// reads what it has just written, and writes only to masters.
func masterOnly(byLatency, randomly, replicas bool) error {
	if byLatency || randomly || replicas {
		return errors.New("route_by_latency, route_randomly, replica_only and read_only send commands to replicas; crumb reads what it has just written and needs the master: remove them")
	}
	return nil
}

// sentinelParams are the query parameters that authenticate to the
// Sentinels themselves.
var sentinelParams = []string{"sentinel_username", "sentinel_password"}

// ParseSentinelURL reads a redis-sentinel:// (or rediss-sentinel://) URL
// as Dial does, without connecting: the userinfo (or the query's
// username and password) authenticates to the master and the replicas,
// sentinel_username and sentinel_password to the Sentinels. (go-redis's
// own ParseFailoverURL gives the userinfo to the Sentinels instead.)
func ParseSentinelURL(rawURL string) (*redis.FailoverOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, scrub(rawURL, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, scrub(rawURL, fmt.Errorf("query: %w", err))
	}
	if u.Scheme != "redis-sentinel" && u.Scheme != "rediss-sentinel" {
		return nil, scrub(rawURL, fmt.Errorf("scheme %q: want redis-sentinel or rediss-sentinel", u.Scheme))
	}
	o, err := parseSentinel(u, q)
	if err != nil {
		return nil, scrub(rawURL, err)
	}
	return o, nil
}

func parseSentinel(u *url.URL, q url.Values) (*redis.FailoverOptions, error) {
	hosts, master, db, ok := splitHosts(u)
	if !ok || master == "" {
		return nil, fmt.Errorf("want %s://[user:password@]host:26379[,host:26379…]/mastername[/db]", u.Scheme)
	}
	var user, pass string
	if u.User != nil {
		if q.Has("username") || q.Has("password") {
			return nil, errors.New("give the password either before the host (user:password@) or as ?password=, not both")
		}
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	sentinelUser, sentinelPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	for _, k := range sentinelParams {
		q.Del(k)
	}
	q.Set("master_name", master)
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	// go-redis gives the userinfo to the Sentinels: hand it none, and set
	// both pairs of credentials here.
	base := *u
	base.Scheme = strings.TrimSuffix(u.Scheme, "-sentinel")
	base.User = nil
	base.Host, base.Path, base.RawPath, base.RawQuery = hosts[0], "/"+db, "", q.Encode()
	o, err := redis.ParseFailoverURL(base.String())
	if err != nil {
		return nil, err
	}
	if u.User != nil {
		o.Username, o.Password = user, pass
	}
	o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPass
	setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
	o.ContextTimeoutEnabled = true
	return o, nil
}

// Deployment names the kind of Redis deployment a Dial URL points at:
// "standalone", "sentinel" or "cluster" ("" for a URL Dial refuses).
func Deployment(rawURL string) string {
	scheme, _, _ := strings.Cut(rawURL, ":")
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "unix":
		return "standalone"
	case "redis-sentinel", "rediss-sentinel":
		return "sentinel"
	case "redis-cluster", "rediss-cluster":
		return "cluster"
	}
	return ""
}

// Redacted is the URL with its passwords (the userinfo's, and the
// password and sentinel_password query parameters) replaced by xxxxx, fit
// for a log; a URL that does not parse is not shown at all.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(malformed URL, not shown)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "(malformed URL, not shown)"
	}
	changed := false
	for _, k := range []string{"password", "sentinel_password"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// quoted matches the quoted fragments of the URL that net/url and go-redis
// put in their errors.
var quoted = regexp.MustCompile(`\s*"(?:[^"\\]|\\.)*"`)

// scrub makes a Dial error fit to print: it drops the URL a *url.Error
// carries and the fragments of the URL quoted in the message (a port or an
// escape that may be part of a password the parser misread), then replaces
// whatever still looks like the URL's credentials.
func scrub(rawURL string, err error) error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = quoted.ReplaceAllString(ue.Err.Error(), "")
		var ee url.EscapeError
		if errors.As(ue.Err, &ee) {
			msg += ` (write a literal "%" as %25)`
		}
		msg = "malformed URL: " + strings.TrimPrefix(msg, "net/url: ")
	} else if strings.HasPrefix(msg, "query: ") {
		msg = quoted.ReplaceAllString(msg, "")
	}
	secrets := credentials(rawURL)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return errors.New("redis url: " + msg)
}

// credentials are the strings of rawURL that may be a password, found
// without trusting the URL to parse: everything between the scheme and
// the last @ of the authority, the part of it after the first colon, their
// unescaped forms, and the values of the password query parameters.
func credentials(rawURL string) []string {
	var out []string
	add := func(s string) {
		out = append(out, s)
		if u, err := url.PathUnescape(s); err == nil && u != s {
			out = append(out, u)
		}
	}
	rest := rawURL
	if _, after, ok := strings.Cut(rawURL, ":"); ok {
		rest = strings.TrimLeft(after, "/")
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		userinfo := rest[:at]
		add(userinfo)
		if _, pass, ok := strings.Cut(userinfo, ":"); ok {
			add(pass)
		}
	}
	if _, query, ok := strings.Cut(rawURL, "?"); ok {
		for _, pair := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' || r == '#' }) {
			k, v, _ := strings.Cut(pair, "=")
			if strings.Contains(strings.ToLower(k), "password") {
				add(v)
				if uv, err := url.QueryUnescape(v); err == nil {
					out = append(out, uv)
				}
			}
		}
	}
	return out
}

// splitHosts reads the comma-separated hosts and the path segments
// (master name, db) of a sentinel or cluster URL.
func splitHosts(u *url.URL) (hosts []string, first, second string, ok bool) {
	for _, h := range strings.Split(u.Host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) > 2 {
		return nil, "", "", false
	}
	first = parts[0]
	if len(parts) == 2 {
		second = parts[1]
	}
	return hosts, first, second, len(hosts) > 0
}

func setTimeouts(dial, read, write, pool *time.Duration, retries *int, minB, maxB *time.Duration) {
	def := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(dial, DialTimeout)
	def(read, ReadTimeout)
	def(write, WriteTimeout)
	def(pool, PoolTimeout)
	def(minB, MinRetryBackoff)
	def(maxB, MaxRetryBackoff)
	if *retries == 0 {
		*retries = MaxRetries
	}
}
