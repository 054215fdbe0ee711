// Package connect turns configuration into live endpoints: a MySQL pool for a
// source and a storage.Store for a destination. It is the one place that
// knows both the config types and the backends, so neither depends on the
// other.
package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/storage/s3"
)

// Source opens a pool to src with room for maxConns concurrent readers.
// When the server refuses the login, the project's secrets are read again
// first (config.Source.RefreshSecrets): if the password was rotated in its
// file, the new one is tried before the refusal is returned, so a rotation
// never reaches the failover machine as an authentication failure.
func Source(ctx context.Context, src *config.Source, sync config.SyncSettings, maxConns int) (*sql.DB, error) {
	return openSource(ctx, src, sync, maxConns, false)
}

// CompressedSource is Source with the protocol's compression on for every
// connection of the pool: the pool of sync.compressed_reads.
func CompressedSource(ctx context.Context, src *config.Source, sync config.SyncSettings, maxConns int) (*sql.DB, error) {
	return openSource(ctx, src, sync, maxConns, true)
}

func openSource(ctx context.Context, src *config.Source, sync config.SyncSettings, maxConns int, compress bool) (*sql.DB, error) {
	cfg := func() mysql.ConnConfig {
		c := SourceConfig(src, sync, maxConns)
		c.Compress = compress
		return c
	}
	db, err := mysql.Open(ctx, cfg())
	if err != nil && mysql.IsLoginRefused(err) {
		if changed, rerr := src.RefreshSecrets(); rerr != nil {
			err = errors.Join(err, rerr)
		} else if changed {
			db, err = mysql.Open(ctx, cfg())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("connect to source %s: %w", src.ResourceName, err)
	}
	return db, nil
}

// SourceConfig maps a source's configuration to the MySQL client's.
func SourceConfig(src *config.Source, sync config.SyncSettings, maxConns int) mysql.ConnConfig {
	secrets := src.Secrets()
	return mysql.ConnConfig{
		Host:           src.Host,
		Port:           src.Port,
		Database:       src.Database,
		User:           src.Username,
		Password:       secrets.Password.Reveal(),
		Params:         src.JDBCURLParams,
		TLSMode:        src.SSL.Mode,
		CACertPEM:      src.SSL.CACertificate,
		ClientCertPEM:  src.SSL.ClientCertificate,
		ClientKeyPEM:   secrets.ClientKey.Reveal(),
		ConnectTimeout: sync.ConnectTimeout,
		ReadTimeout:    sync.ReadTimeout,
		MaxOpenConns:   maxConns,
	}
}

// Store opens the destination's store: S3 when it names a bucket, a local
// directory when it names a destination_path.
func Store(ctx context.Context, dst *config.Destination) (storage.Store, error) {
	switch dst.Kind {
	case "local":
		st, err := file.New(dst.LocalPath)
		if err != nil {
			return nil, fmt.Errorf("open destination %s: %w", dst.ResourceName, err)
		}
		return st, nil
	case "s3":
		keys := dst.Keys()
		st, err := s3.New(ctx, s3.Config{
			Bucket:               dst.Bucket,
			Region:               dst.Region,
			Endpoint:             dst.Endpoint,
			AccessKeyID:          keys.AccessKeyID.Reveal(),
			SecretAccessKey:      keys.SecretAccessKey.Reveal(),
			ServerSideEncryption: dst.ServerSideEncryption,
			KMSKeyID:             dst.KMSKeyID,
		})
		if err != nil {
			return nil, fmt.Errorf("open destination %s: %w", dst.ResourceName, err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("destination %s: unknown kind %q", dst.ResourceName, dst.Kind)
	}
}

// BucketStore opens another bucket with the endpoint, region and
// credentials of the S3 destination like: backups and archives live beside
// the bronze layer, reached the same way.
func BucketStore(ctx context.Context, bucket string, like *config.Destination) (*s3.Store, error) {
	if like.Kind != "s3" {
		return nil, fmt.Errorf("destination %s is not on S3", like.ResourceName)
	}
	keys := like.Keys()
	st, err := s3.New(ctx, s3.Config{
		Bucket:               bucket,
		Region:               like.Region,
		Endpoint:             like.Endpoint,
		AccessKeyID:          keys.AccessKeyID.Reveal(),
		SecretAccessKey:      keys.SecretAccessKey.Reveal(),
		ServerSideEncryption: like.ServerSideEncryption,
		KMSKeyID:             like.KMSKeyID,
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %s like destination %s: %w", bucket, like.ResourceName, err)
	}
	return st, nil
}
