package config

import (
	"fmt"
	"slices"
	"sync"
)

// secretsMu guards the Secret fields of every loaded Source and
// Destination against ReloadSecrets, which replaces them while jobs and
// health checks run. Readers that may run beside a reload (connect) use
// Secrets and Keys.
var secretsMu sync.RWMutex

// reloadMu makes reloads run one at a time.
var reloadMu sync.Mutex

// SourceSecrets are a source's secrets at one moment.
type SourceSecrets struct {
	Password          Secret
	ClientKey         Secret
	ClientKeyPassword Secret
}

// Secrets returns the source's current secrets.
func (s *Source) Secrets() SourceSecrets {
	secretsMu.RLock()
	defer secretsMu.RUnlock()
	return SourceSecrets{Password: s.Password, ClientKey: s.SSL.ClientKey, ClientKeyPassword: s.SSL.ClientKeyPassword}
}

// DestinationKeys are an S3 destination's static credentials at one moment.
type DestinationKeys struct {
	AccessKeyID     Secret
	SecretAccessKey Secret
}

// Keys returns the destination's current credentials.
func (d *Destination) Keys() DestinationKeys {
	secretsMu.RLock()
	defer secretsMu.RUnlock()
	return DestinationKeys{AccessKeyID: d.AccessKeyID, SecretAccessKey: d.SecretAccessKey}
}

// ReloadSecrets reads the project's files again, with the same variable
// lookup as Load, and takes the new values of the secrets of every source
// and destination it already has: a password rotated in a ${file:...}
// (or in the file itself) is used by the next connection, without a
// restart. Nothing else changes: a new host or stream needs a restart. It
// returns what changed, as "source_mysql_acode password", never a value.
// When the files no longer load, nothing changes and the error says why.
func (p *Project) ReloadSecrets() ([]string, error) {
	if p.lookupEnv == nil {
		return nil, fmt.Errorf("reload secrets: the project was not loaded from %s", p.Dir)
	}
	reloadMu.Lock()
	defer reloadMu.Unlock()
	fresh, err := Load(p.Dir, p.lookupEnv)
	if err != nil {
		return nil, fmt.Errorf("reload secrets: %w", err)
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	var changed []string
	for name, s := range p.Sources {
		if n := fresh.Sources[name]; n != nil {
			changed = takeSecret(changed, name+" password", &s.Password, n.Password)
			changed = takeSecret(changed, name+" client_key", &s.SSL.ClientKey, n.SSL.ClientKey)
			changed = takeSecret(changed, name+" client_key_password", &s.SSL.ClientKeyPassword, n.SSL.ClientKeyPassword)
		}
	}
	for name, d := range p.Destinations {
		if n := fresh.Destinations[name]; n != nil {
			changed = takeSecret(changed, name+" access_key_id", &d.AccessKeyID, n.AccessKeyID)
			changed = takeSecret(changed, name+" secret_access_key", &d.SecretAccessKey, n.SecretAccessKey)
		}
	}
	slices.Sort(changed)
	return changed, nil
}

func takeSecret(changed []string, what string, dst *Secret, v Secret) []string {
	if *dst == v {
		return changed
	}
	*dst = v
	return append(changed, what)
}

// RefreshSecrets reloads the project's secrets (ReloadSecrets) and says
// whether this source's changed: after an authentication failure, a
// changed password is worth one more try before the failure counts.
func (s *Source) RefreshSecrets() (bool, error) {
	if s.project == nil {
		return false, nil
	}
	changed, err := s.project.ReloadSecrets()
	if err != nil {
		return false, err
	}
	prefix := s.ResourceName + " "
	return slices.ContainsFunc(changed, func(c string) bool { return len(c) > len(prefix) && c[:len(prefix)] == prefix }), nil
}
