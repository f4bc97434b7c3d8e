"""Sample data for ``login-feed simulate``: names from many cultures, where people live, how they sign in.

Pure data, no logic. Names are written the way people write them (diacritics, apostrophes, hyphens,
non-Latin scripts, right-to-left text, a mononym, an emoji), because the feed shows them and must render
every one of them as plain text. Every email address and host name is in a reserved example domain
(RFC 2606: ``example.com``/``.net``/``.org`` and ``*.example``) and every IP address is in a documentation
range (RFC 5737), so nothing generated here ever points at a real person or machine.

A name part is either a string (its email spelling is derived by folding accents to ASCII) or a pair
``(as written, ascii spelling)`` for scripts that do not fold (Cyrillic, CJK, Arabic, ...).
"""

# The names are deliberately written in many scripts, so letters that look like Latin ones are expected here.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass

NamePart = str | tuple[str, str]


@dataclass(frozen=True)
class Culture:
    """How people of one naming tradition are called and where they mostly log in from.

    ``full`` names (when given) are used as they are: for languages whose family names agree with
    gender (Polish, Russian, Icelandic, Greek ...) combining parts at random would produce wrong names.
    """

    weight: float
    places: tuple[tuple[str, str], ...]  # (ISO 3166-1 alpha-2 country, city as geo-IP databases name it)
    given: tuple[NamePart, ...] = ()
    family: tuple[NamePart, ...] = ()
    full: tuple[NamePart, ...] = ()
    family_first: bool = False


CULTURES: tuple[Culture, ...] = (
    Culture(  # English-speaking
        weight=14,
        places=(("US", "New York"), ("US", "Austin"), ("US", "Seattle"), ("US", "Chicago"), ("US", "Atlanta"),
                ("GB", "London"), ("GB", "Manchester"), ("IE", "Dublin"), ("IE", "Cork"), ("AU", "Sydney"),
                ("AU", "Melbourne"), ("CA", "Toronto"), ("NZ", "Auckland")),
        given=("James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Siobhán", "Seán", "Aoife", "Chloe", "Ethan",
               "Grace", "Mary-Kate", "Jack", "Madison", "Tyler"),
        family=("Smith", "Johnson", "O'Brien", "O'Connor", "McAllister", "Williams", "Brown", "Taylor", "Murphy",
                "Walsh", "Fitzgerald", "Ní Bhriain", "Jones", "Davis"),
    ),
    Culture(  # German-speaking
        weight=7,
        places=(("DE", "Berlin"), ("DE", "Munich"), ("DE", "Hamburg"), ("DE", "Cologne"), ("AT", "Vienna"),
                ("CH", "Zurich")),
        given=("Zoë", "Jürgen", "Lukas", "Anna", "Jörg", "Sophie", "Maximilian", "Hannah", "Björn", "Lena",
               "Käthe", "Felix"),
        family=("Müller", "Schröder", "Weiß", "Groß", "Schmidt", "Fischer", "Becker", "Hoffmann", "Köhler",
                "Meyer", "von Bülow", "Özdemir"),
    ),
    Culture(  # Nordic (surnames without gender agreement)
        weight=4,
        places=(("DK", "Copenhagen"), ("DK", "Aarhus"), ("SE", "Stockholm"), ("SE", "Gothenburg"), ("NO", "Oslo"),
                ("FI", "Helsinki")),
        given=("Søren", "Astrid", "Bjørn", "Ingrid", "Åsa", "Lars", "Freja", "Mikael", "Einar", "Aino", "Päivi"),
        family=("Kierkegaard", "Jørgensen", "Lindqvist", "Åkesson", "Hansen", "Nilsson", "Virtanen", "Andersson",
                "Østergaard", "Mäkinen"),
    ),
    Culture(  # Icelandic (patronymics)
        weight=0.5,
        places=(("IS", "Reykjavik"),),
        full=("Sigríður Jónsdóttir", "Guðmundur Þórsson", "Björk Guðmundsdóttir", "Ólafur Ragnarsson"),
    ),
    Culture(  # Vietnamese (family name first)
        weight=4,
        places=(("VN", "Hanoi"), ("VN", "Ho Chi Minh City"), ("VN", "Da Nang")),
        family=("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"),
        given=("Văn An", "Thị Lan", "Minh Tuấn", "Thị Hương", "Đức Anh", "Ngọc Ánh", "Quốc Bảo", "Thu Trang"),
        family_first=True,
    ),
    Culture(  # Spanish-speaking
        weight=9,
        places=(("ES", "Madrid"), ("ES", "Barcelona"), ("ES", "Seville"), ("MX", "Mexico City"),
                ("MX", "Guadalajara"), ("AR", "Buenos Aires"), ("CO", "Bogotá"), ("CL", "Santiago"), ("PE", "Lima")),
        given=("José", "María", "Lucía", "Mateo", "Sofía", "Valentina", "Javier", "Camila", "Íñigo", "Ximena",
               "María José", "Joaquín"),
        family=("García", "Fernández", "Martínez", "López", "Núñez", "Pérez", "Ibáñez", "Rodríguez", "Gómez",
                "Muñoz", "de la Cruz", "Sánchez Vicario"),
    ),
    Culture(  # Portuguese-speaking
        weight=6,
        places=(("BR", "São Paulo"), ("BR", "Rio de Janeiro"), ("BR", "Recife"), ("BR", "Porto Alegre"),
                ("PT", "Lisbon"), ("PT", "Porto")),
        given=("João", "Ana", "Gonçalo", "Beatriz", "Thiago", "Luíza", "Caio", "Inês", "Vitória", "Conceição"),
        family=("Silva", "Santos", "Gonçalves", "Oliveira", "Araújo", "Magalhães", "Souza", "da Costa"),
    ),
    Culture(  # French-speaking
        weight=6,
        places=(("FR", "Paris"), ("FR", "Lyon"), ("FR", "Marseille"), ("FR", "Toulouse"), ("BE", "Brussels"),
                ("CA", "Montreal"), ("SN", "Dakar")),
        given=("Élodie", "François", "Anne-Marie", "Jérôme", "Chloé", "Théo", "Maëlle", "Noël", "Hélène",
               "Jean-Baptiste"),
        family=("Dupont", "Lefèvre", "Moreau", "Girard", "Dubois", "Lambert", "Dupont-Lefèvre", "Bélanger",
                "N'Diaye"),
    ),
    Culture(  # Italian
        weight=4,
        places=(("IT", "Rome"), ("IT", "Milan"), ("IT", "Naples"), ("IT", "Turin")),
        given=("Giulia", "Lorenzo", "Niccolò", "Chiara", "Francesca", "Matteo", "Gianluca", "Aurora"),
        family=("Rossi", "Bianchi", "D'Angelo", "Esposito", "Romano", "Colombo", "De Luca", "Ricci"),
    ),
    Culture(  # Dutch
        weight=3,
        places=(("NL", "Amsterdam"), ("NL", "Rotterdam"), ("NL", "Utrecht"), ("BE", "Antwerp")),
        given=("Sanne", "Daan", "Bram", "Femke", "Joëlle", "Thijs", "Anouk", "IJsbrand"),
        family=("de Vries", "van den Berg", "Jansen", "Bakker", "van Dijk", "Visser", "Smit"),
    ),
    Culture(  # Polish and Czech (gendered surnames: whole names)
        weight=3,
        places=(("PL", "Warsaw"), ("PL", "Kraków"), ("PL", "Wrocław"), ("CZ", "Prague"), ("CZ", "Brno")),
        full=("Małgorzata Wiśniewska", "Łukasz Nowak", "Wojciech Szczepański", "Agnieszka Wójcik",
              "Zuzana Dvořáková", "Jiří Novák", "Grzegorz Brzęczyszczykiewicz", "Kateřina Černá"),
    ),
    Culture(  # Turkish
        weight=3,
        places=(("TR", "Istanbul"), ("TR", "Ankara"), ("TR", "Izmir")),
        given=("Mehmet", "Ayşe", "Çağla", "Emre", "Gülşen", "Barış", "Zeynep", "İbrahim"),
        family=("Yılmaz", "Öztürk", "Şahin", "Çelik", "Doğan", "Kaya", "Aydın"),
    ),
    Culture(  # Cyrillic (gendered surnames: whole names; some people write them in Latin letters)
        weight=3,
        places=(("UA", "Kyiv"), ("UA", "Lviv"), ("RS", "Belgrade"), ("BG", "Sofia"), ("KZ", "Almaty"),
                ("GE", "Tbilisi")),
        full=(("Олена Шевченко", "olena.shevchenko"), ("Тарас Коваленко", "taras.kovalenko"),
              ("Дмитрий Иванов", "dmitry.ivanov"), ("Анна Петрова", "anna.petrova"),
              ("Милош Јовановић", "milos.jovanovic"), ("Георги Димитров", "georgi.dimitrov"),
              "Olena Bondarenko", "Andriy Melnyk", "Natalia Sokolova"),
    ),
    Culture(  # Greek
        weight=1.5,
        places=(("GR", "Athens"), ("GR", "Thessaloniki"), ("CY", "Nicosia")),
        full=(("Γιώργος Παπαδόπουλος", "giorgos.papadopoulos"), ("Ελένη Οικονόμου", "eleni.oikonomou"),
              "Nikos Papadakis", "Maria Georgiou", "Dimitra Karagianni"),
    ),
    Culture(  # Chinese
        weight=6,
        places=(("CN", "Shanghai"), ("CN", "Beijing"), ("CN", "Shenzhen"), ("TW", "Taipei"), ("SG", "Singapore"),
                ("HK", "Hong Kong")),
        full=(("王芳", "wang.fang"), ("李伟", "li.wei"), ("张敏", "zhang.min"), ("陈静", "chen.jing"),
              ("刘洋", "liu.yang"), ("黃志明", "huang.zhiming"), ("林美玲", "lin.meiling"), "Wei Zhang",
              "Xiaoming Li", "Mei Chen", "Jun Wang", "Ka-Wai Chan"),
    ),
    Culture(  # Japanese
        weight=3,
        places=(("JP", "Tokyo"), ("JP", "Osaka"), ("JP", "Fukuoka"), ("JP", "Sapporo")),
        full=(("佐藤 花子", "sato.hanako"), ("鈴木 一郎", "suzuki.ichiro"), ("高橋 陽菜", "takahashi.hina"),
              ("田中 蓮", "tanaka.ren"), ("渡辺 結衣", "watanabe.yui"), "Haruto Yamamoto", "Yui Kobayashi",
              "Sōta Itō"),
    ),
    Culture(  # Korean
        weight=2.5,
        places=(("KR", "Seoul"), ("KR", "Busan"), ("KR", "Incheon")),
        full=(("김민준", "kim.minjun"), ("이서연", "lee.seoyeon"), ("박지호", "park.jiho"), ("최수아", "choi.sua"),
              ("정하준", "jung.hajun"), "Min-jun Kim", "Seo-yeon Lee", "Ji-ho Park"),
    ),
    Culture(  # Indian
        weight=9,
        places=(("IN", "Bengaluru"), ("IN", "Mumbai"), ("IN", "New Delhi"), ("IN", "Chennai"), ("IN", "Hyderabad"),
                ("IN", "Pune"), ("IN", "Kolkata")),
        given=("Priya", "Arjun", "Aarav", "Ananya", "Rohan", "Lakshmi", "Vikram", "Saanvi", "Karthik", "Divya",
               ("प्रिया", "priya"), ("அருண்", "arun")),
        family=("Sharma", "Patel", "Iyer", "Reddy", "Banerjee", "Nair", "Gupta", "Chatterjee", "Venkataraman",
                "Subramanian"),
    ),
    Culture(  # Arabic-speaking
        weight=5,
        places=(("EG", "Cairo"), ("AE", "Dubai"), ("SA", "Riyadh"), ("JO", "Amman"), ("MA", "Casablanca"),
                ("LB", "Beirut"), ("TN", "Tunis")),
        full=(("محمد الأحمد", "mohammed.alahmad"), ("فاطمة الزهراء", "fatima.zahra"), ("ليلى حداد", "layla.haddad"),
              ("عمر خوري", "omar.khoury"), "Youssef El-Amin", "Noor Haddad", "Karim Benali", "Amira Mansour",
              "Omar Al-Farsi", "Layla Khoury", "Mohammed bin Rashid"),
    ),
    Culture(  # Hebrew
        weight=1.5,
        places=(("IL", "Tel Aviv"), ("IL", "Jerusalem"), ("IL", "Haifa")),
        full=(("נועה כהן", "noa.cohen"), ("יונתן לוי", "yonatan.levi"), ("תמר מזרחי", "tamar.mizrahi"),
              "Avi Friedman", "Shira Ben-David"),
    ),
    Culture(  # Persian
        weight=1.5,
        places=(("IR", "Tehran"), ("IR", "Isfahan"), ("DE", "Berlin"), ("US", "Los Angeles")),
        full=(("سارا رضایی", "sara.rezaei"), "Dariush Tehrani", "Shirin Ahmadi", "Reza Karimi"),
    ),
    Culture(  # West, East and Southern African
        weight=6,
        places=(("NG", "Lagos"), ("NG", "Abuja"), ("GH", "Accra"), ("KE", "Nairobi"), ("ZA", "Johannesburg"),
                ("ZA", "Cape Town"), ("ET", "Addis Ababa")),
        given=("Chiamaka", "Oluwaseun", "Kwame", "Ama", "Adaeze", "Tunde", "Wanjiru", "Thabo", "Nomvula", "Chidi",
               "Abebe", "Ngozi"),
        family=("Okafor", "Adeyemi", "Mensah", "Boateng", "Okonkwo", "Eze", "Kamau", "Ndlovu", "Mokoena",
                "Oyelaran-Oyeyinka", "Tesfaye"),
    ),
    Culture(  # South-East Asian
        weight=5,
        places=(("ID", "Jakarta"), ("ID", "Surabaya"), ("PH", "Manila"), ("PH", "Cebu City"), ("TH", "Bangkok"),
                ("MY", "Kuala Lumpur")),
        full=("Budi Santoso", "Siti Nurhaliza", "Wulan", "Putri Ayu Lestari", "Maria Clara Reyes",
              "Jose Miguel dela Cruz", ("สมชาย ใจดี", "somchai.jaidee"), "Siriporn Wongsawat",
              "Nurul Aisyah binti Ahmad", "Tan Wei Ling"),
    ),
    Culture(  # what real sign-up forms also receive: emoji, very long names, markup (shown literally!)
        weight=0.6,
        places=(("US", "San Francisco"), ("GB", "Bristol"), ("DE", "Leipzig")),
        full=(("Sam 🚀 Rivera", "sam.rivera"),
              ("Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Sr.",
               "hubert.wolfeschlegelsteinhausenbergerdorff"),
              ("<img src=x>", "img.src"), ("Robert'); DROP TABLE users;--", "bobby.tables"), ("ＡＬＥＸ", "alex")),
    ),
)

# Auth0 connections, their weight and the prefix of the user ids they issue.
CONNECTIONS: tuple[tuple[str, float], ...] = (
    ("Username-Password-Authentication", 55),
    ("google-oauth2", 30),
    ("github", 15),
)

APPLICATIONS: tuple[tuple[str, float], ...] = (
    ("Acme Web", 30),
    ("Support Portal", 22),
    ("Acme Mobile (iOS)", 15),
    ("Acme Mobile (Android)", 15),
    ("Billing Dashboard", 8),
    ("Partner Console", 6),
    ("Community Forum", 4),
)

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("example.com", 35),
    ("example.org", 15),
    ("example.net", 15),
    ("mail.example", 15),
    ("acme.example", 10),
    ("globex.example", 5),
    ("initech.example", 5),
)

# RFC 5737 documentation ranges: never a real host.
IP_PREFIXES: tuple[str, ...] = ("192.0.2.", "198.51.100.", "203.0.113.")

# Letters that Unicode decomposition does not reduce to ASCII, for the email spelling of a name.
ASCII_FOLD: dict[str, str] = {
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th",
    "Þ": "Th", "ł": "l", "Ł": "L", "ı": "i", "œ": "oe", "Œ": "OE",
}
