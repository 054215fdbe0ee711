package demo

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Each append*Row writes one LOAD DATA line: tab-separated, \N for NULL,
// newline-terminated. The word lists hold no tab, newline or backslash, so
// nothing needs escaping.

// diarioColumns is the LOAD DATA column list of farmarcas_si_analitico_diario.
const diarioColumns = "(idpk, ACODE_Val_Total, CNPJ, CNPJ_Fornecedor, Data, Data_Processamento, EAN, Fornecedor, " +
	"NF_Numero, Qtd_Trib, Val_Prod, Val_Trib, CFOP, NCM, CST, Aliquota_ICMS, Valor_ICMS, IPI, ST, STRet)"

func (w *world) appendDiarioRow(b []byte, r *rand.Rand, i int64) []byte {
	sup := w.suppliers[r.IntN(len(w.suppliers))]
	data := w.today.AddDate(0, 0, -1-r.IntN(w.opts.Days))
	proc := data.AddDate(0, 0, r.IntN(2))
	qtd := int64(1+r.IntN(24)) * 10_000 // Qtd_Trib, 4 decimals
	if r.IntN(10) == 0 {
		qtd = 1 + r.Int64N(100_000)
	}
	unit := 199 + r.Int64N(25_000) // cents
	valProd := max(1, unit*qtd/10_000)
	cst := pick(r, csts)
	aliq := int64(pick(r, aliquotas))
	icms := (valProd*aliq + 50) / 100
	var ipi, st, stRet int64
	if r.IntN(7) == 0 {
		ipi = valProd * int64(r.IntN(10)) / 100
	}
	if strings.HasSuffix(cst, "60") || strings.HasSuffix(cst, "10") {
		st = valProd * int64(5+r.IntN(20)) / 100
		stRet = st / 2
	}

	b = strconv.AppendInt(b, i+1, 10)
	b = append(b, '\t')
	b = appendFixed(b, valProd+ipi+st, 2)
	b = append(b, '\t')
	b = append(b, w.pharmacies[r.IntN(len(w.pharmacies))]...)
	b = append(b, '\t')
	b = append(b, sup.cnpj...)
	b = append(b, '\t')
	b = appendDate(b, data)
	b = append(b, '\t')
	b = appendDate(b, proc)
	b = append(b, '\t')
	b = append(b, productEAN(r.Int64N(w.counts.Produtos))...)
	b = append(b, '\t')
	b = append(b, sup.name...)
	b = append(b, '\t')
	b = strconv.AppendInt(b, 1+r.Int64N(999_999), 10)
	b = append(b, '\t')
	b = appendFixed(b, qtd, 4)
	b = append(b, '\t')
	b = appendFixed(b, valProd, 2)
	b = append(b, '\t')
	b = appendFixed(b, valProd, 2)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(pick(r, cfops)), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(pick(r, ncms)), 10)
	b = append(b, '\t')
	b = append(b, cst...)
	b = append(b, '\t')
	b = appendFixed(b, aliq*100, 2)
	b = append(b, '\t')
	b = appendFixed(b, icms, 2)
	b = append(b, '\t')
	b = appendFixed(b, ipi, 2)
	b = append(b, '\t')
	b = appendFixed(b, st, 2)
	b = append(b, '\t')
	if r.IntN(50) == 0 {
		b = append(b, '\\', 'N') // STRet is sometimes not reported
	} else {
		b = appendFixed(b, stRet, 2)
	}
	return append(b, '\n')
}

const produtosColumns = "(idpk, EAN, Produto, Fabricante, P_Ativo, Classe, Sub_Classe, Familia, Grupo, Tipo, Desc_Marca, Holding)"

func (w *world) appendProdutoRow(b []byte, r *rand.Rand, k int64) []byte {
	principio := pick(r, principios)
	fields := []string{
		productEAN(k),
		strings.ToUpper(principio[:1]) + principio[1:] + " " + pick(r, formas),
		pick(r, fabricantes),
		strings.ToUpper(principio),
		pick(r, classes), pick(r, subClasses), pick(r, familias), pick(r, grupos), pick(r, tipos),
		pick(r, marcas), pick(r, holdings),
	}
	b = strconv.AppendInt(b, k+1, 10)
	for _, f := range fields {
		b = append(b, '\t')
		b = append(b, f...)
	}
	return append(b, '\n')
}

const complementoColumns = "(idpk, idpk_analitico, Chave_NFe, Data_Emissao, Data_Autorizacao, UF_Origem, UF_Destino, " +
	"Natureza_Operacao, Valor_Frete, Valor_Desconto, Situacao, @xml_hash, Protocolo) SET XML_Hash = UNHEX(@xml_hash)"

func (w *world) appendComplementoRow(b []byte, r *rand.Rand, j int64) []byte {
	ufO, ufD := pick(r, ufs), pick(r, ufs)
	emit := w.today.AddDate(0, 0, -1-r.IntN(w.opts.Days)).Add(time.Duration(r.IntN(86_400)) * time.Second)
	sup := w.suppliers[r.IntN(len(w.suppliers))]
	key := chaveNFe(r, ufO, emit, sup.cnpj, 1+r.Int64N(999_999))
	situacao := pick(r, situacoes)
	var frete, desconto int64
	if r.IntN(10) < 3 {
		frete = 500 + r.Int64N(20_000)
	}
	if r.IntN(4) == 0 {
		desconto = r.Int64N(5_000)
	}
	hash := xmlHash(key)

	b = strconv.AppendInt(b, j+1, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, 1+r.Int64N(max(1, w.counts.Diario)), 10)
	b = append(b, '\t')
	b = append(b, key...)
	b = append(b, '\t')
	b = appendDateTime(b, emit)
	b = append(b, '\t')
	if situacao == "denegada" {
		b = append(b, '\\', 'N')
	} else {
		b = appendDateTime(b, emit.Add(time.Duration(1+r.IntN(600))*time.Second))
	}
	b = append(b, '\t')
	b = append(b, ufO...)
	b = append(b, '\t')
	b = append(b, ufD...)
	b = append(b, '\t')
	b = append(b, pick(r, naturezas)...)
	b = append(b, '\t')
	b = appendFixed(b, frete, 2)
	b = append(b, '\t')
	b = appendFixed(b, desconto, 2)
	b = append(b, '\t')
	b = append(b, situacao...)
	b = append(b, '\t')
	b = hex.AppendEncode(b, hash[:])
	b = append(b, '\t')
	proto := int64(1)*100_000_000_000_000 + int64(ufCodes[ufO])*1_000_000_000_000 +
		int64(emit.Year()%100)*10_000_000_000 + r.Int64N(10_000_000_000)
	b = strconv.AppendInt(b, proto, 10)
	return append(b, '\n')
}
