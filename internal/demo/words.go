package demo

// Small word lists the names are built from: enough variety for realistic
// dictionaries and statistics, small enough to read.
var (
	fabricantes = []string{"EMS", "Eurofarma", "Aché", "Medley", "Neo Química", "Sanofi", "Cimed", "Germed",
		"Biolab", "Libbs", "Hypera", "Prati-Donaduzzi", "Teuto", "Cristália", "Legrand", "Natulab"}
	holdings = []string{"NC Group", "Eurofarma Laboratórios", "Aché Laboratórios", "Sanofi S.A.", "Hypera Pharma",
		"Grupo Cimed", "Libbs Farmacêutica", "Biolab Sanus"}
	principios = []string{"dipirona sódica", "paracetamol", "ibuprofeno", "losartana potássica", "omeprazol",
		"amoxicilina", "cloridrato de metformina", "sinvastatina", "atenolol", "azitromicina",
		"dexametasona", "nimesulida", "loratadina", "cetoconazol", "ácido acetilsalicílico", "captopril"}
	formas     = []string{"500mg 10 comprimidos", "750mg 20 comprimidos", "200mg/ml gotas 20ml", "50mg 30 comprimidos", "20mg 28 cápsulas", "xarope 100ml", "creme 30g", "pomada 20g"}
	classes    = []string{"MEDICAMENTO", "MEDICAMENTO", "MEDICAMENTO", "PERFUMARIA", "HIGIENE PESSOAL", "DERMOCOSMÉTICO"}
	subClasses = []string{"ANALGÉSICO", "ANTI-INFLAMATÓRIO", "ANTI-HIPERTENSIVO", "ANTIBIÓTICO", "ANTIALÉRGICO", "ANTIDIABÉTICO", "PROTETOR GÁSTRICO"}
	familias   = []string{"SISTEMA NERVOSO", "CARDIOVASCULAR", "ANTI-INFECCIOSOS", "APARELHO DIGESTIVO", "DERMATOLÓGICOS", "RESPIRATÓRIO"}
	grupos     = []string{"ÉTICO", "OTC", "GENÉRICO", "SIMILAR", "NÃO MEDICAMENTO"}
	tipos      = []string{"GENERICO", "SIMILAR", "REFERENCIA", "OTC"}
	marcas     = []string{"Novalgina", "Tylenol", "Advil", "Cozaar", "Losec", "Amoxil", "Glifage", "Zocor", "Neosaldina", "Dorflex", "Buscopan", "Eno"}
	fornPrefix = []string{"Distribuidora", "Drogaria", "Comercial", "Atacadista", "Profarma", "Santa Cruz", "Panpharma", "Servimed"}
	fornSuffix = []string{"de Medicamentos", "Farmacêutica", "Distribuição", "Nordeste", "Sul", "Centro-Oeste", "Paulista", "Mineira"}
	fornEnding = []string{"Ltda", "S.A.", "Eireli", "Ltda ME"}
	cfops      = []int{5102, 5102, 5102, 5405, 5405, 6102, 6404, 1102, 2102, 5929, 5403, 6403, 5910, 1411}
	ncms       = []int{30049099, 30049099, 30042099, 30049069, 30045090, 30039099, 33049990, 33051000, 34011190, 30051090}
	csts       = []string{"000", "060", "010", "040", "020", "00", "60", "10", "40", "500"}
	aliquotas  = []int{0, 7, 12, 17, 18, 18, 18, 19, 20}
	ufs        = []string{"SP", "MG", "RJ", "PR", "SC", "RS", "GO", "BA", "PE", "CE", "ES", "DF", "MT", "PA"}
	ufCodes    = map[string]int{"SP": 35, "MG": 31, "RJ": 33, "PR": 41, "SC": 42, "RS": 43, "GO": 52, "BA": 29, "PE": 26, "CE": 23, "ES": 32, "DF": 53, "MT": 51, "PA": 15}
	naturezas  = []string{"Venda de mercadoria", "Venda de mercadoria adquirida de terceiros", "Venda com ST", "Transferência entre filiais", "Devolução de compra", "Remessa em bonificação"}
	situacoes  = []string{"autorizada", "autorizada", "autorizada", "autorizada", "autorizada", "autorizada", "autorizada", "autorizada", "cancelada", "denegada"}
)
