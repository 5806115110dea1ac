package gen

import (
	"math/rand/v2"
	"strings"
	"unicode"
)

// Name pools. They are deliberately small so that surnames repeat across the
// world, as they do in real case files (and so that fuzzy search has
// namesakes to tell apart).
var (
	kzMaleFirst = []string{"Айдар", "Жанболат", "Нұрлан", "Ерлан", "Асқар", "Бауыржан", "Дәулет",
		"Ғалым", "Қайрат", "Мұрат", "Серік", "Талғат", "Әлихан", "Ерболат", "Дархан", "Санжар",
		"Жандос", "Азамат", "Арман", "Болат", "Ержан", "Қуаныш", "Мейірхан", "Өмірзақ", "Ұлан",
		"Еркін", "Тимур", "Әділет", "Ілияс", "Нұржан", "Ақылбек", "Есен", "Бекзат", "Рүстем"}
	kzFemaleFirst = []string{"Айгүл", "Әсем", "Гүлнар", "Дана", "Жанар", "Қарлығаш", "Мәдина",
		"Назерке", "Сәуле", "Ақбота", "Аружан", "Динара", "Айым", "Гүлмира", "Жұлдыз", "Ләззат",
		"Мөлдір", "Іңкәр", "Салтанат", "Ұлжан", "Үміт", "Айжан", "Балжан", "Томирис", "Ботагөз"}
	// kzSurnames are male forms; female forms add -а to -ов/-ев/-ин. Surnames
	// without those endings (Marriage and Family Code Art. 194) do not change.
	kzSurnames = []string{"Ахметов", "Жанболатов", "Нұрланов", "Сейітов", "Қасымов", "Әбілов",
		"Омаров", "Төлеуов", "Ерғалиев", "Байжанов", "Мұхамеджанов", "Серікбаев", "Құдайбергенов",
		"Ғабдуллин", "Есенов", "Ыбыраев", "Жұмабаев", "Оспанов", "Нұрпейісов", "Сәрсенбаев",
		"Қалиев", "Дүйсенов", "Исабеков", "Бекмұханов", "Әлімжанов", "Шәріпов", "Рахымжанов",
		"Иманғали", "Жанболат", "Тұрсынбай", "Сұлтанбек", "Өтегенов", "Үсенов", "Ілиясов"}
	ruMaleFirst = []string{"Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Максим",
		"Иван", "Николай", "Владимир", "Евгений", "Олег", "Павел", "Виктор", "Игорь", "Юрий", "Роман"}
	ruFemaleFirst = []string{"Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Анна", "Мария",
		"Светлана", "Екатерина", "Юлия", "Людмила", "Галина", "Оксана", "Валентина"}
	// ruPatronymics pairs the male and female patronymic of one father's name.
	ruPatronymics = [][2]string{{"Александрович", "Александровна"}, {"Дмитриевич", "Дмитриевна"},
		{"Сергеевич", "Сергеевна"}, {"Андреевич", "Андреевна"}, {"Алексеевич", "Алексеевна"},
		{"Иванович", "Ивановна"}, {"Николаевич", "Николаевна"}, {"Владимирович", "Владимировна"},
		{"Викторович", "Викторовна"}, {"Игоревич", "Игоревна"}, {"Юрьевич", "Юрьевна"},
		{"Олегович", "Олеговна"}, {"Павлович", "Павловна"}, {"Евгеньевич", "Евгеньевна"}}
	ruSurnames = []string{"Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов",
		"Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Лебедев", "Козлов", "Ким",
		"Шевченко", "Ткаченко", "Пак", "Бондаренко", "Никитин", "Зайцев", "Романов"}

	// Non-resident droppers: Uzbek, Kyrgyz and Tajik names as written in
	// passports (Latin, surname first).
	foreignMaleFirst = []string{"BOBUR", "JASUR", "SARDOR", "NURBEK", "AZAMAT", "FIRDAVS",
		"RUSTAM", "BEKZOD", "DILSHOD", "ULUGBEK", "TALANT", "ERMEK", "SHERZOD", "ISLOM"}
	foreignFemaleFirst = []string{"DILNOZA", "MADINA", "NIGORA", "AIZADA", "GULNORA", "ZARINA",
		"NODIRA", "AIPERI", "SHAHNOZA", "MUNISA"}
	foreignSurnames = []string{"KARIMOV", "RAHIMOV", "YUSUPOV", "TOSHMATOV", "ASANOV", "ABDULLAEV",
		"MAMATOV", "NAZAROV", "SAIDOV", "TURSUNOV", "JUMAEV", "ISMOILOV", "SHARIPOV", "OSMONOV"}
)

// icao is the passport transliteration of ICAO Doc 9303 with the Kazakh
// letters folded to their base letters (DOMAIN §3).
var icao = map[rune]string{
	'А': "A", 'Ә': "A", 'Б': "B", 'В': "V", 'Г': "G", 'Ғ': "G", 'Д': "D", 'Е': "E", 'Ё': "E",
	'Ж': "ZH", 'З': "Z", 'И': "I", 'Й': "I", 'К': "K", 'Қ': "K", 'Л': "L", 'М': "M", 'Н': "N",
	'Ң': "N", 'О': "O", 'Ө': "O", 'П': "P", 'Р': "R", 'С': "S", 'Т': "T", 'У': "U", 'Ұ': "U",
	'Ү': "U", 'Ф': "F", 'Х': "KH", 'Һ': "H", 'Ц': "TS", 'Ч': "CH", 'Ш': "SH", 'Щ': "SHCH",
	'Ъ': "IE", 'Ы': "Y", 'І': "I", 'Ь': "", 'Э': "E", 'Ю': "IU", 'Я': "IA",
}

// translit renders Cyrillic text in upper-case passport Latin.
func translit(s string) string {
	var b strings.Builder
	for _, r := range s {
		u := unicode.ToUpper(r)
		if l, ok := icao[u]; ok {
			b.WriteString(l)
			continue
		}
		b.WriteRune(u)
	}
	return b.String()
}

// feminine turns a male surname into its female form.
func feminine(surname string) string {
	for _, suf := range []string{"ов", "ев", "ёв", "ин"} {
		if strings.HasSuffix(surname, suf) {
			return surname + "а"
		}
	}
	return surname
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// kzPatronymic builds a Kazakh patronymic from the father's name: the
// Kazakh form -ұлы/-қызы, or the Russian form -ович/-овна.
func kzPatronymic(r *rand.Rand, father string, male bool) string {
	last := []rune(father)
	end := last[len(last)-1]
	vowelEnd := strings.ContainsRune("аеиоуыәөүұіэюяй", end)
	if vowelEnd || r.IntN(10) < 6 {
		if male {
			return father + "ұлы"
		}
		return father + "қызы"
	}
	if male {
		return father + "ович"
	}
	return father + "овна"
}

// personName draws a display name. Residents are mostly Kazakh or Russian in
// Cyrillic ("Ахметов Жанболат Серікұлы"); some are written passport-style in
// Latin ("ZHANBOLATOV AIDAR"). Non-residents are mostly Central Asian names
// in passport Latin.
func personName(r *rand.Rand, male, resident bool) string {
	if !resident && r.IntN(10) < 7 {
		first := pick(r, foreignFemaleFirst)
		sur := pick(r, foreignSurnames)
		if male {
			first = pick(r, foreignMaleFirst)
		} else {
			sur += "A"
		}
		return sur + " " + first
	}
	var sur, first, patr string
	if r.IntN(10) < 7 {
		sur = pick(r, kzSurnames)
		if male {
			first = pick(r, kzMaleFirst)
		} else {
			first = pick(r, kzFemaleFirst)
			sur = feminine(sur)
		}
		if r.IntN(20) != 0 {
			patr = kzPatronymic(r, pick(r, kzMaleFirst), male)
		}
	} else {
		sur = pick(r, ruSurnames)
		p := pick(r, ruPatronymics)
		if male {
			first, patr = pick(r, ruMaleFirst), p[0]
		} else {
			first, patr = pick(r, ruFemaleFirst), p[1]
			sur = feminine(sur)
		}
	}
	if r.IntN(12) == 0 {
		return translit(sur) + " " + translit(first)
	}
	if patr == "" {
		return sur + " " + first
	}
	return sur + " " + first + " " + patr
}

// Cities where the world lives: a code used in ATM and group ids, the name
// used in addresses, and a population weight.
type city struct {
	code, name string
	weight     int
}

var cities = []city{
	{"ALA", "Алматы", 25}, {"AST", "Астана", 20}, {"SHY", "Шымкент", 14}, {"KGD", "Қарағанды", 8},
	{"AKT", "Ақтөбе", 6}, {"TAR", "Тараз", 5}, {"PAV", "Павлодар", 5}, {"UKA", "Өскемен", 5},
	{"ATY", "Атырау", 4}, {"KST", "Қостанай", 4}, {"KZO", "Қызылорда", 4},
}

var streets = []string{"ул. Абая", "пр. Достық", "ул. Сәтбаев", "ул. Төле би", "пр. Жібек жолы",
	"ул. Сейфуллина", "ул. Гагарина", "ул. Байтұрсынұлы", "ул. Кабанбай батыра", "пр. Республики",
	"ул. Пушкина", "ул. Жамбыла", "ул. Әуезова", "ул. Толстого", "ул. Мәметова"}

func address(r *rand.Rand, c city) string {
	if r.IntN(4) == 0 {
		return c.name + ", мкр. " + itoa(1+r.IntN(12)) + ", д. " + itoa(1+r.IntN(60)) + ", кв " + itoa(1+r.IntN(120))
	}
	return c.name + ", " + pick(r, streets) + " " + itoa(1+r.IntN(180)) + ", кв " + itoa(1+r.IntN(200))
}

// Organisation names for employers and shops (they appear in payment
// references; their accounts are IBAN stubs).
var (
	orgForms = []string{"ТОО", "ТОО", "ТОО", "ИП", "АО"}
	orgWords = []string{"Арман", "Береке", "Самұрық", "Алтын", "Дала", "Нұр", "Астана", "Жетісу",
		"Тұлпар", "Көктем", "Сапа", "Steppe", "Nomad", "Qazaq", "Silk Way", "Орда", "Атамекен"}
	orgTrades = []string{"Строй", "Трейд", "Логистик", "Сервис", "Фуд", "Транс", "Агро", "Мед",
		"Energy", "Group", "Market", "IT", "Build"}
	shops = []string{"Magnum", "Small", "Galmart", "Technodom", "Sulpak", "Mechta", "Arbuz.kz",
		"Glovo", "Yandex Go", "Wolt", "Kaspi Магазин", "Европа+", "Аптека Садыхан", "Biosfera",
		"Анвар", "Кинопарк", "Beeline", "Kcell", "Алматы Су", "АлматыЭнергоСбыт", "Казахтелеком"}
)

func orgName(r *rand.Rand) string {
	return pick(r, orgForms) + " «" + pick(r, orgWords) + "-" + pick(r, orgTrades) + "»"
}
