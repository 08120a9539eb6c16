package redisstore_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/storetest"
	"github.com/redis/go-redis/v9"
)

func TestDial(t *testing.T) {
	c, err := redisstore.Dial("redis://127.0.0.1:6379/2")
	if err != nil {
		t.Fatal(err)
	}
	o := c.(*redis.Client).Options()
	if o.Addr != "127.0.0.1:6379" || o.DB != 2 || o.ReadTimeout != redisstore.ReadTimeout || o.MaxRetries != redisstore.MaxRetries || !o.ContextTimeoutEnabled {
		t.Errorf("standalone options: addr=%s db=%d read=%v retries=%d", o.Addr, o.DB, o.ReadTimeout, o.MaxRetries)
	}
	c.Close()

	c, err = redisstore.Dial("redis://127.0.0.1:6379?read_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.(*redis.Client).Options().ReadTimeout; got != 3*time.Second {
		t.Errorf("read_timeout from the URL: %v, want 3s", got)
	}
	c.Close()

	c, err = redisstore.Dial("redis-cluster://n1:7000,n2:7001,n3:7002")
	if err != nil {
		t.Fatal(err)
	}
	co := c.(*redis.ClusterClient).Options()
	if !slices.Equal(co.Addrs, []string{"n1:7000", "n2:7001", "n3:7002"}) || co.WriteTimeout != redisstore.WriteTimeout {
		t.Errorf("cluster options: addrs=%v write=%v", co.Addrs, co.WriteTimeout)
	}
	c.Close()

	c, err = redisstore.Dial("redis-sentinel://:secret@s1:26379,s2:26379/mymaster/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*redis.Client); !ok {
		t.Errorf("sentinel client is %T, want a failover *redis.Client", c)
	}
	c.Close()

	for _, bad := range []string{"http://x", "redis-sentinel://s1:26379", "redis-cluster:///", "redis://x?nonsense=1"} {
		if c, err := redisstore.Dial(bad); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", bad)
		}
	}
}

// TestParseSentinelURL checks whose credentials are whose in a
// redis-sentinel:// URL: the userinfo (or ?username=&password=) is the
// master's and the replicas', sentinel_username and sentinel_password the
// Sentinels'.
func TestParseSentinelURL(t *testing.T) {
	tests := []struct {
		url                          string
		user, pass, senUser, senPass string
		addrs                        []string
		db                           int
	}{
		{url: "redis-sentinel://:pw@s1:26379,s2:26379/mymaster", pass: "pw", addrs: []string{"s1:26379", "s2:26379"}},
		{url: "redis-sentinel://crumb:pw@s1:26379/mymaster/3", user: "crumb", pass: "pw", addrs: []string{"s1:26379"}, db: 3},
		{url: "redis-sentinel://:p%40ss%2Fw@s1:26379/mymaster", pass: "p@ss/w", addrs: []string{"s1:26379"}},
		{url: "redis-sentinel://:pw@s1:26379,s2:26379,s3:26379/mymaster?sentinel_password=spw", pass: "pw", senPass: "spw", addrs: []string{"s1:26379", "s2:26379", "s3:26379"}},
		{url: "redis-sentinel://:pw@s1:26379/mymaster?sentinel_username=sen&sentinel_password=s%26pw", pass: "pw", senUser: "sen", senPass: "s&pw", addrs: []string{"s1:26379"}},
		{url: "redis-sentinel://s1:26379/mymaster?password=pw", pass: "pw", addrs: []string{"s1:26379"}},
		{url: "redis-sentinel://s1:26379/mymaster?db=2&sentinel_password=spw", senPass: "spw", addrs: []string{"s1:26379"}, db: 2},
		{url: "redis-sentinel://s1:26379/mymaster", addrs: []string{"s1:26379"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			o, err := redisstore.ParseSentinelURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if o.MasterName != "mymaster" || o.Username != tt.user || o.Password != tt.pass || o.SentinelUsername != tt.senUser || o.SentinelPassword != tt.senPass {
				t.Errorf("master %q user %q password %q, sentinel user %q password %q; want mymaster %q %q, %q %q",
					o.MasterName, o.Username, o.Password, o.SentinelUsername, o.SentinelPassword, tt.user, tt.pass, tt.senUser, tt.senPass)
			}
			if !slices.Equal(o.SentinelAddrs, tt.addrs) || o.DB != tt.db {
				t.Errorf("addrs %v db %d, want %v %d", o.SentinelAddrs, o.DB, tt.addrs, tt.db)
			}
			if o.ReadTimeout != redisstore.ReadTimeout || o.MaxRetries != redisstore.MaxRetries || !o.ContextTimeoutEnabled {
				t.Errorf("timeouts: read %v retries %d context %v", o.ReadTimeout, o.MaxRetries, o.ContextTimeoutEnabled)
			}
		})
	}
	for _, bad := range []string{
		"redis-sentinel://:pw@s1:26379/mymaster?password=other", // two passwords for the master
		"redis://:pw@h:6379?sentinel_password=spw",              // no Sentinel to give it to
		"redis-cluster://n1:7000?sentinel_username=x",
		"redis-sentinel://s1:26379/mymaster?sentinel_nonsense=1",
	} {
		if c, err := redisstore.Dial(bad); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", bad)
		}
	}
}

// TestDialErrorsHideCredentials feeds Dial malformed URLs with passwords
// in them: no error may show a password, whole or as the fragment a
// parser misread as a port or an escape.
func TestDialErrorsHideCredentials(t *testing.T) {
	tests := []struct {
		url     string
		secrets []string
		want    string // in the error
	}{
		{"redis://:SECRETPW@127.0.0.1:badport", []string{"SECRETPW"}, "invalid port"},
		{"redis://:SECRET%zzPW@127.0.0.1:6379", []string{"SECRET", "%zzPW", "zzPW"}, "%25"},
		{"redis://user:SECRET%zz@127.0.0.1:6379", []string{"SECRET"}, "escape"},
		{"redis://:SEC/RETPW@127.0.0.1:6379", []string{"SEC/RETPW", "SEC", "RETPW"}, "redis url"},
		{"redis://:SEC:RET@127.0.0.1:6379/notadb", []string{"SEC:RET", "RET"}, "database"},
		{"redis:/:SECRETPW@127.0.0.1/x", []string{"SECRETPW"}, "redis url"},
		{"redis://:SECRETPW@127.0.0.1:6379/0?pool_size=many", []string{"SECRETPW"}, "pool_size"},
		{"redis://127.0.0.1:6379/0?password=SECRET%zzPW", []string{"SECRET", "zzPW"}, "query"},
		{"redis-sentinel://:SECRETPW@s1:26379,s2:bad/mymaster", []string{"SECRETPW"}, "redis url"},
		{"redis-sentinel://:SECRETPW@s1:26379/mymaster/1/2", []string{"SECRETPW"}, "mastername"},
		{"redis-sentinel://s1:26379/mymaster?sentinel_password=SECRETPW&dial_timeout=soon", []string{"SECRETPW"}, "dial_timeout"},
		{"redis-cluster://:SECRETPW@n1:7000,n2:x:y", []string{"SECRETPW"}, "redis url"},
		{"http://:SECRETPW@x", []string{"SECRETPW"}, "scheme"},
		{"redis://:SECRET PW@127.0.0.1:6379\x7f", []string{"SECRET PW", "SECRET"}, "redis url"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := redisstore.Dial(tt.url)
			if err == nil {
				c.Close()
				t.Fatalf("Dial succeeded")
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				t.Errorf("the error wraps a *url.Error: %v", err)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://:pw@h:6379/0", "redis://:xxxxx@h:6379/0"},
		{"redis://crumb:pw@h:6379", "redis://crumb:xxxxx@h:6379"},
		{"redis-sentinel://:pw@s1:26379,s2:26379/mymaster?sentinel_password=spw", "redis-sentinel://:xxxxx@s1:26379,s2:26379/mymaster?sentinel_password=xxxxx"},
		{"redis://h:6379?password=pw&pool_size=3", "redis://h:6379?password=xxxxx&pool_size=3"},
		{"redis://h:6379", "redis://h:6379"},
		{"redis://:pw@h:bad", "(malformed URL, not shown)"},
	}
	for _, tt := range tests {
		if got := redisstore.Redacted(tt.in); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDialSentinelWithPasswords runs the documented URL against a real
// deployment where the master and the replicas have a password
// (requirepass and masterauth) and the Sentinel another one of its own.
func TestDialSentinelWithPasswords(t *testing.T) {
	const pw, senPW = "master p@ss/w%rd", "sentinel&secret"
	sen := redistest.StartSentinelWith(t, redistest.SentinelOptions{Password: pw, SentinelPassword: senPW})
	ctx := context.Background()
	userinfo := url.UserPassword("", pw).String() // ":master%20p%40ss%2Fw%25rd"
	documented := "redis-sentinel://" + userinfo + "@" + sen.Addr() + "/" + redistest.MasterName +
		"?sentinel_password=" + url.QueryEscape(senPW)

	open := func(rawURL string) (*redisstore.Store, error) {
		c, err := redisstore.Dial(rawURL)
		if err != nil {
			return nil, err
		}
		s, err := redisstore.New(ctx, c, redisstore.Options{})
		if err != nil {
			c.Close()
			return nil, err
		}
		return s, nil
	}
	s, err := open(documented)
	if err != nil {
		t.Fatalf("the documented URL: %v", err)
	}
	defer s.Close()
	storetest.PutBanner(t, s, "shop")
	r, _, err := s.Record(ctx, storetest.Decision("sentinel-auth-1", "", time.Now().UTC()))
	if err != nil {
		t.Fatalf("record through the Sentinel: %v", err)
	}
	// The decision is on the master, read with the master's password.
	mc := redis.NewClient(&redis.Options{Addr: sen.Master.Addr(), Password: pw})
	defer mc.Close()
	direct, err := redisstore.New(ctx, mc, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if recs, err := direct.Consent(ctx, "shop", r.ConsentID); err != nil || len(recs) != 1 || recs[0].EventID != "sentinel-auth-1" {
		t.Errorf("on the master: %v, %v", recs, err)
	}

	// Each password goes where it belongs: without the Sentinel's, or
	// with the master's given to the Sentinel (what go-redis's own URL
	// parsing does with the userinfo), the store does not open.
	for name, rawURL := range map[string]string{
		"no sentinel password": "redis-sentinel://" + userinfo + "@" + sen.Addr() + "/" + redistest.MasterName,
		"no master password":   "redis-sentinel://" + sen.Addr() + "/" + redistest.MasterName + "?sentinel_password=" + url.QueryEscape(senPW),
	} {
		s, err := open(rawURL)
		if err == nil {
			s.Close()
			t.Errorf("%s: the store opened", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestDialRefusesReplicaRouting checks that the go-redis options that send
// commands to replicas are refused with a message, never a panic: crumb
// reads what it has just written.
func TestDialRefusesReplicaRouting(t *testing.T) {
	for _, raw := range []string{
		"redis-sentinel://s1:26379/mymaster?route_randomly=true",
		"redis-sentinel://s1:26379/mymaster?route_by_latency=true",
		"redis-sentinel://s1:26379/mymaster?replica_only=true",
		"redis-cluster://n1:7000,n2:7001?read_only=true",
		"redis-cluster://n1:7000?route_randomly=true",
	} {
		c, err := redisstore.Dial(raw)
		if err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", raw)
			continue
		}
		if !strings.Contains(err.Error(), "needs the master") {
			t.Errorf("Dial(%q): %v, want a message that crumb needs the master", raw, err)
		}
	}
}

// TestDialPasswordQuery checks that ?password= (and ?username=) work in
// every scheme, as the userinfo does, and that giving both is refused.
func TestDialPasswordQuery(t *testing.T) {
	for _, raw := range []string{
		"redis://127.0.0.1:6379/2?password=p%40ss&username=crumb",
		"unix:///run/redis.sock?password=p%40ss&username=crumb",
	} {
		c, err := redisstore.Dial(raw)
		if err != nil {
			t.Fatalf("Dial(%q): %v", raw, err)
		}
		o := c.(*redis.Client).Options()
		if o.Username != "crumb" || o.Password != "p@ss" {
			t.Errorf("Dial(%q): user %q password %q, want crumb and p@ss", raw, o.Username, o.Password)
		}
		c.Close()
	}
	c, err := redisstore.Dial("redis-cluster://n1:7000,n2:7001?password=p%40ss")
	if err != nil {
		t.Fatal(err)
	}
	if o := c.(*redis.ClusterClient).Options(); o.Password != "p@ss" {
		t.Errorf("cluster password %q, want p@ss", o.Password)
	}
	c.Close()
	for _, raw := range []string{"redis://u:pw@h:6379?password=pw", "redis-cluster://u:pw@n1:7000?password=pw"} {
		if c, err := redisstore.Dial(raw); err == nil {
			c.Close()
			t.Errorf("Dial(%q) took two passwords", raw)
		} else if !strings.Contains(err.Error(), "not both") {
			t.Errorf("Dial(%q): %v, want a message saying not both", raw, err)
		}
	}
}
