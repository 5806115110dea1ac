package decoy

import "strings"

// Name parts. Kazakh names are written in Cyrillic with Kazakh letters as
// often seen in bank records; Russian names in Russian; non-residents from
// neighbouring countries in Cyrillic or passport Latin.
var (
	kzMale   = []string{"Ерлан", "Нұрлан", "Асқар", "Дәурен", "Ержан", "Бауыржан", "Серік", "Марат", "Талғат", "Арман", "Айдос", "Ғалым", "Жандос", "Мирас", "Алихан", "Темірлан", "Санжар", "Қайрат", "Ербол", "Әлішер", "Дамир", "Нұрсұлтан", "Елдос", "Аян"}
	kzFemale = []string{"Айгүл", "Гүлнара", "Сәуле", "Динара", "Жанар", "Айжан", "Меруерт", "Ақмарал", "Әсел", "Томирис", "Айым", "Камила", "Дана", "Назерке", "Аружан", "Гүлжан", "Ләззат", "Самал", "Інжу", "Мадина"}
	kzSur    = []string{"Ахметов", "Сейтқали", "Жұмабаев", "Оспанов", "Мұхамеджанов", "Нұрланов", "Қасымов", "Төлеуов", "Байжанов", "Әбдірахманов", "Есенов", "Сатпаев", "Ибраев", "Кенжебаев", "Мұратов", "Омаров", "Бекмұхамбетов", "Жақсылықов", "Смағұлов", "Тұрсынов", "Қалиев", "Ержанов", "Абенов", "Дүйсенбаев"}
	ruMale   = []string{"Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Владимир", "Евгений", "Игорь", "Роман", "Павел", "Виктор"}
	ruFemale = []string{"Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Анна", "Светлана", "Юлия", "Марина", "Екатерина", "Людмила", "Оксана"}
	ruSur    = []string{"Иванов", "Петров", "Ким", "Смирнов", "Кузнецов", "Попов", "Васильев", "Новиков", "Морозов", "Волков", "Лебедев", "Шевченко", "Ли", "Пак", "Бондаренко", "Ткаченко"}
	ruPatrM  = []string{"Александрович", "Сергеевич", "Викторович", "Николаевич", "Владимирович", "Игоревич"}
	ruPatrF  = []string{"Александровна", "Сергеевна", "Викторовна", "Николаевна", "Владимировна", "Игоревна"}
	fgMale   = []string{"Rustam", "Jasur", "Bekzod", "Azamat", "Timur", "Farrukh", "Ulugbek", "Nurbek", "Dilshod", "Sardor", "Ilkhom", "Kubanychbek"}
	fgFemale = []string{"Dilnoza", "Gulnora", "Aizada", "Nilufar", "Zarina", "Madina", "Shakhnoza", "Aigerim"}
	fgSur    = []string{"Karimov", "Rakhimov", "Tashkentov", "Yusupov", "Abdullaev", "Mamatov", "Sadykov", "Toktogulov", "Usmonov", "Kholmatov", "Ergashev", "Alimov"}
)

// feminine turns a Russian-pattern surname into its female form.
func feminine(s string) string {
	for _, suf := range []string{"ов", "ев", "ин"} {
		if strings.HasSuffix(s, suf) {
			return s + "а"
		}
	}
	if strings.HasSuffix(s, "ий") {
		return strings.TrimSuffix(s, "ий") + "ая"
	}
	if strings.HasSuffix(s, "ov") || strings.HasSuffix(s, "ev") {
		return s + "a"
	}
	return s
}

// fullName draws "Surname Given [Patronymic]" for one ethnicity.
func fullName(r rng, male, resident bool) string {
	if !resident {
		if r.chance(0.6) {
			g, s := pick(r, fgMale), pick(r, fgSur)
			if !male {
				g, s = pick(r, fgFemale), feminine(s)
			}
			return strings.ToUpper(s + " " + g)
		}
		g, s := pick(r, ruMale), pick(r, ruSur)
		if !male {
			g, s = pick(r, ruFemale), feminine(s)
		}
		return s + " " + g
	}
	if r.chance(0.72) {
		s := pick(r, kzSur)
		father := pick(r, kzMale)
		if male {
			g := pick(r, kzMale)
			switch r.IntN(4) {
			case 0:
				return s + " " + g + " " + father + "ұлы"
			case 1:
				return s + " " + g
			default:
				return s + " " + g + " " + father + "ович"
			}
		}
		g := pick(r, kzFemale)
		switch r.IntN(4) {
		case 0:
			return feminine(s) + " " + g + " " + father + "қызы"
		case 1:
			return feminine(s) + " " + g
		default:
			return feminine(s) + " " + g + " " + father + "овна"
		}
	}
	if male {
		return pick(r, ruSur) + " " + pick(r, ruMale) + " " + pick(r, ruPatrM)
	}
	return feminine(pick(r, ruSur)) + " " + pick(r, ruFemale) + " " + pick(r, ruPatrF)
}

// surnameOf returns the first word of a name.
func surnameOf(name string) string {
	if i := strings.IndexByte(name, ' '); i > 0 {
		return name[:i]
	}
	return name
}

// city is a place with its share of the population and its ATM code.
type city struct {
	name  string
	code  string
	share float64
}

var cities = []city{
	{"Алматы", "ALA", 32}, {"Астана", "AST", 22}, {"Шымкент", "SHY", 14}, {"Қарағанды", "KRG", 9},
	{"Ақтөбе", "AKT", 7}, {"Павлодар", "PVL", 6}, {"Өскемен", "UKK", 5}, {"Атырау", "ATY", 5},
}

var streets = []string{"ул. Абая", "пр. Назарбаева", "ул. Жандосова", "мкр. Самал-2", "ул. Сейфуллина", "пр. Республики",
	"ул. Кунаева", "мкр. Аксай-4", "ул. Тимирязева", "ул. Байтурсынова", "пр. Аль-Фараби", "ул. Момышулы", "мкр. Шұғыла"}

var orgPrefix = []string{"ТОО", "ТОО", "ТОО", "ИП", "АО"}
var orgWords = []string{"Дала", "Алтын", "Nomad", "Astana", "Qazaq", "Steppe", "Береке", "Тұлпар", "Сапа", "Jibek", "Орда", "Кемел", "Ақ Жол", "Самұрық", "Aqniet", "Тау"}
var orgKinds = []string{"Логистик", "Строй", "Трейд", "Сервис", "Консалтинг", "Медиа", "Агро", "Фарм", "Софт", "Маркет", "Энерго"}

func orgName(r rng) string {
	return pick(r, orgPrefix) + " «" + pick(r, orgWords) + " " + pick(r, orgKinds) + "»"
}
