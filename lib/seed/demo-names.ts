// Name lists for demo providers, by the region whose currency they are paid in.

export type TRegion = { currency: "USD" | "EUR" | "GBP" | "JPY"; utcOffsetHours: number; first: string[]; last: string[] };

export const REGIONS: readonly TRegion[] = [
  {
    currency: "USD",
    utcOffsetHours: -5,
    first: [
      "James", "Maria", "Michael", "Jennifer", "David", "Ashley", "Chris", "Jessica", "Daniel", "Emily",
      "Marcus", "Brianna", "Tyler", "Samantha", "Kevin", "Lauren", "Andre", "Megan", "Carlos", "Nicole",
      "Jamal", "Rachel", "Ethan", "Olivia", "Luis",
    ],
    last: [
      "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson", "Anderson",
      "Thomas", "Moore", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker",
      "Nguyen", "Patel", "Kim", "Rivera", "Brooks",
    ],
  },
  {
    currency: "EUR",
    utcOffsetHours: 1,
    first: [
      "Lukas", "Sophie", "Jonas", "Marie", "Elias", "Lea", "Mathieu", "Camille", "Louis", "Chloé",
      "Javier", "Lucía", "Pablo", "Carmen", "Marco", "Giulia", "Luca", "Francesca", "Daan", "Sanne",
      "Felix", "Anna", "Théo", "Inès", "Matteo",
    ],
    last: [
      "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau",
      "García", "Fernández", "López", "Sánchez", "Romero", "Rossi", "Russo", "Bianchi", "Ferrari", "Esposito",
      "de Vries", "Jansen", "Bakker", "Visser", "Wagner",
    ],
  },
  {
    currency: "GBP",
    utcOffsetHours: 0,
    first: [
      "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Poppy", "Charlie", "Freya",
      "Alfie", "Grace", "Archie", "Ellie", "Rhys", "Niamh", "Callum", "Imogen", "Priya", "Hamish",
    ],
    last: [
      "Smith", "Jones", "Taylor", "Evans", "Davies", "Wright", "Walker", "Hughes", "Edwards", "Green",
      "Hall", "Wood", "Thomson", "Roberts", "Khan", "Campbell", "Murphy", "Stewart", "Lloyd", "Price",
    ],
  },
  {
    currency: "JPY",
    utcOffsetHours: 9,
    first: [
      "Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Kaito", "Mei",
      "Riku", "Yuna", "Takumi", "Miyu", "Daiki", "Rin",
    ],
    last: [
      "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato",
      "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura",
    ],
  },
];

export const EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"] as const;

/** Reasons the booking platform gives when a booking is cancelled. */
export const CANCELLATION_REASONS = [
  "Customer cancelled more than 24 h before the start",
  "Customer cancelled: plans changed",
  "Provider unavailable (illness)",
  "Provider cancelled: double-booked",
  "Rescheduled as a new booking",
  "Customer no longer needs the service",
  "Weather: appointment could not take place",
] as const;

/** Reasons for cancelling a booking that had already been marked completed. */
export const LATE_CANCELLATION_REASONS = [
  "Marked completed by mistake: the appointment never took place",
  "Duplicate booking: the customer was charged twice",
  "Provider no-show confirmed by support",
  "Service not delivered: customer refunded in full by support",
] as const;

export const PLATFORM_DISPUTE_REASONS = [
  "service_not_as_described",
  "provider_no_show",
  "quality_complaint",
  "late_arrival",
  "overcharged",
] as const;

export const STRIPE_DISPUTE_REASONS = ["fraudulent", "product_not_received", "product_unacceptable", "duplicate", "general"] as const;
