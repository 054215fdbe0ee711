package schema

// Family groups MySQL DATA_TYPEs (information_schema's lower-case names)
// by the kind of value they hold. It is the one list of MySQL's types:
// the Parquet mapping, the statistics, the reader's key bounds and the
// decoders all start from it and differ only in what they do per family.
type Family string

const (
	FamilyInteger   Family = "int"       // TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT
	FamilyDecimal   Family = "decimal"   // DECIMAL, NUMERIC
	FamilyFloat     Family = "float"     // FLOAT
	FamilyDouble    Family = "double"    // DOUBLE, REAL
	FamilyDate      Family = "date"      // DATE
	FamilyDateTime  Family = "datetime"  // DATETIME
	FamilyTimestamp Family = "timestamp" // TIMESTAMP
	FamilyTime      Family = "time"      // TIME: a signed duration
	FamilyYear      Family = "year"      // YEAR
	FamilyBit       Family = "bit"       // BIT(n)
	FamilyString    Family = "string"    // CHAR, VARCHAR, TEXT..., ENUM, SET, JSON, MariaDB's UUID, INET4, INET6
	FamilyBinary    Family = "binary"    // BINARY, VARBINARY, BLOB...
	FamilySpatial   Family = "spatial"   // GEOMETRY and its subtypes
	FamilyUnknown   Family = ""          // anything a future server adds
)

// FamilyOf returns the family of a DATA_TYPE.
func FamilyOf(dataType string) Family {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return FamilyInteger
	case "decimal", "numeric":
		return FamilyDecimal
	case "float":
		return FamilyFloat
	case "double", "real", "double precision":
		return FamilyDouble
	case "date":
		return FamilyDate
	case "datetime":
		return FamilyDateTime
	case "timestamp":
		return FamilyTimestamp
	case "time":
		return FamilyTime
	case "year":
		return FamilyYear
	case "bit":
		return FamilyBit
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext",
		"enum", "set", "json", "uuid", "inet4", "inet6":
		return FamilyString
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return FamilyBinary
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		return FamilySpatial
	}
	return FamilyUnknown
}

// Family is the column's family.
func (c Column) Family() Family { return FamilyOf(c.DataType) }
