package parquet

import (
	"encoding/binary"
	"encoding/json"
)

// MySQL and MariaDB send a geometry value as their internal format: a
// 4-byte little-endian SRID followed by the geometry's WKB. Exact mode
// writes the WKB alone, the encoding GeoParquet requires, and records the
// SRID and geometry types in the file's "geo" metadata (GeoParquet 1.1), so
// DuckDB's spatial extension and GeoPandas read the column as geometry.

const geoParquetVersion = "1.1.0"

// wkbTypeNames are GeoParquet's names of WKB geometry codes 1..7 (MySQL's
// geometries are 2D).
var wkbTypeNames = [...]string{1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint",
	5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}

// wgs84 is EPSG:4326 as PROJJSON, the CRS MySQL's SRID 4326 names. WKB keeps
// x = longitude, y = latitude whatever the CRS's axis order, as GeoParquet
// says.
var wgs84 = json.RawMessage(`{"$schema":"https://proj.org/schemas/v0.7/projjson.schema.json",` +
	`"type":"GeographicCRS","name":"WGS 84","datum":{"type":"GeodeticReferenceFrame",` +
	`"name":"World Geodetic System 1984","ellipsoid":{"name":"WGS 84","semi_major_axis":6378137,` +
	`"inverse_flattening":298.257223563}},"coordinate_system":{"subtype":"ellipsoidal","axis":[` +
	`{"name":"Geodetic latitude","abbreviation":"Lat","direction":"north","unit":"degree"},` +
	`{"name":"Geodetic longitude","abbreviation":"Lon","direction":"east","unit":"degree"}]},` +
	`"id":{"authority":"EPSG","code":4326}}`)

// geoSeen is what one file's values of a spatial column showed.
type geoSeen struct {
	types  uint16 // bit n: WKB code n seen; bit 0: a code outside 1..7
	srid   uint32
	values int64
	mixed  bool // values with different SRIDs
}

// geoColumns tracks the spatial columns of a file, by table column index;
// nil when the table has none.
type geoColumns []geoSeen

func newGeoColumns(cols []column) geoColumns {
	for _, c := range cols {
		if c.kind == kindWKB {
			return make(geoColumns, len(cols))
		}
	}
	return nil
}

// observe checks a geometry value of column i and returns its WKB.
func (g geoColumns) observe(i int, b []byte) ([]byte, error) {
	if len(b) < 9 || b[4] > 1 { // SRID, byte order, type
		return nil, errGeometry
	}
	srid := binary.LittleEndian.Uint32(b)
	wkb := b[4:]
	code := binary.LittleEndian.Uint32(wkb[1:])
	if wkb[0] == 0 {
		code = binary.BigEndian.Uint32(wkb[1:])
	}
	s := &g[i]
	if code >= 1 && code <= 7 {
		s.types |= 1 << code
	} else {
		s.types |= 1
	}
	if s.values > 0 && s.srid != srid {
		s.mixed = true
	}
	s.srid = srid
	s.values++
	return wkb, nil
}

type geoColumnMeta struct {
	Encoding      string          `json:"encoding"`
	GeometryTypes []string        `json:"geometry_types"`
	CRS           json.RawMessage `json:"crs"`
	SRID          *uint32         `json:"acode_srid,omitempty"`
}

type geoMeta struct {
	Version       string                   `json:"version"`
	PrimaryColumn string                   `json:"primary_column"`
	Columns       map[string]geoColumnMeta `json:"columns"`
}

// metadata is the file's "geo" key value. The CRS is EPSG:4326 when every
// value had SRID 4326, otherwise null (unknown: SRID 0 is MySQL's plane
// without units, and acode carries no CRS database to describe others);
// acode_srid keeps the SRID when the values agreed on one.
func (g geoColumns) metadata(cols []column) string {
	m := geoMeta{Version: geoParquetVersion, Columns: map[string]geoColumnMeta{}}
	for _, c := range cols {
		if c.kind != kindWKB {
			continue
		}
		if m.PrimaryColumn == "" {
			m.PrimaryColumn = c.name
		}
		s := g[c.index]
		cm := geoColumnMeta{Encoding: "WKB", GeometryTypes: []string{}, CRS: json.RawMessage("null")}
		if s.types&1 == 0 {
			for code := 1; code <= 7; code++ {
				if s.types&(1<<code) != 0 {
					cm.GeometryTypes = append(cm.GeometryTypes, wkbTypeNames[code])
				}
			}
		}
		if s.values > 0 && !s.mixed {
			srid := s.srid
			cm.SRID = &srid
			if srid == 4326 {
				cm.CRS = wgs84
			}
		}
		m.Columns[c.name] = cm
	}
	b, _ := json.Marshal(m) // plain structs: cannot fail
	return string(b)
}
