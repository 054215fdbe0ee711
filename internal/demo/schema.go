// Package demo creates the three ACODE tables and fills them with
// realistic synthetic fiscal data: valid CNPJ and EAN-13 check digits, real
// CFOP, NCM and CST shapes, ICMS computed from the rate, dates over recent
// days. `acode demo`, the tests and the benchmark share it, so the same seed
// always gives the same rows.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The ACODE tables, as the seed's sync_catalog names them.
const (
	TableDiario      = "farmarcas_si_analitico_diario"
	TableProdutos    = "farmarcas_si_analitico_diario_produtos"
	TableComplemento = "farmarcas_si_analitico_diario_complemento"
)

// Tables lists the three tables in the seed's order.
func Tables() []string { return []string{TableDiario, TableProdutos, TableComplemento} }

var ddl = map[string]string{
	TableDiario: `(
  idpk BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ACODE_Val_Total DECIMAL(15,2),
  CNPJ CHAR(14),
  CNPJ_Fornecedor CHAR(14),
  Data DATE,
  Data_Processamento DATE,
  EAN VARCHAR(14),
  Fornecedor VARCHAR(120),
  NF_Numero BIGINT,
  Qtd_Trib DECIMAL(15,4),
  Val_Prod DECIMAL(15,2),
  Val_Trib DECIMAL(15,2),
  CFOP INT,
  NCM INT,
  CST VARCHAR(3),
  Aliquota_ICMS DECIMAL(5,2),
  Valor_ICMS DECIMAL(15,2),
  IPI DECIMAL(15,2),
  ST DECIMAL(15,2),
  STRet DECIMAL(15,2),
  KEY idx_data (Data)
)`,
	TableProdutos: `(
  idpk BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  EAN VARCHAR(14) NOT NULL,
  Produto VARCHAR(200),
  Fabricante VARCHAR(120),
  P_Ativo VARCHAR(200),
  Classe VARCHAR(60),
  Sub_Classe VARCHAR(60),
  Familia VARCHAR(60),
  Grupo VARCHAR(60),
  Tipo VARCHAR(30),
  Desc_Marca VARCHAR(120),
  Holding VARCHAR(120),
  UNIQUE KEY uk_ean (EAN)
)`,
	TableComplemento: `(
  idpk BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  idpk_analitico BIGINT NOT NULL,
  Chave_NFe CHAR(44) NOT NULL,
  Data_Emissao DATETIME,
  Data_Autorizacao TIMESTAMP NULL DEFAULT NULL,
  UF_Origem CHAR(2),
  UF_Destino CHAR(2),
  Natureza_Operacao VARCHAR(60),
  Valor_Frete DECIMAL(15,2),
  Valor_Desconto DECIMAL(15,2),
  Situacao ENUM('autorizada','cancelada','denegada') NOT NULL,
  XML_Hash BINARY(32),
  Protocolo BIGINT UNSIGNED,
  KEY idx_analitico (idpk_analitico)
)`,
}

// CreateSchema creates database (if missing) and the three tables (dropping
// any previous ones), with the MySQL types the production tables use.
func CreateSchema(ctx context.Context, db *sql.DB, database string) error {
	q := quoteIdent(database)
	stmts := []string{"CREATE DATABASE IF NOT EXISTS " + q + " CHARACTER SET utf8mb4"}
	for _, t := range Tables() {
		stmts = append(stmts,
			"DROP TABLE IF EXISTS "+q+"."+quoteIdent(t),
			"CREATE TABLE "+q+"."+quoteIdent(t)+" "+ddl[t]+" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create demo schema in %s: %w", database, err)
		}
	}
	return nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
