#include "services/catalog/model/model_search.h"

#include <algorithm>
#include <array>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/catalog/model/text_fold.h"

namespace modelcatalog::catalog {
namespace {

constexpr size_t kId = static_cast<size_t>(SearchField::kId);
constexpr size_t kDisplayName = static_cast<size_t>(SearchField::kDisplayName);
constexpr size_t kDeveloper = static_cast<size_t>(SearchField::kDeveloper);

// A model's atoms, by field.
struct ModelAtoms {
  std::array<absl::InlinedVector<SearchAtom, 16>, kSearchFieldCount> by_field;

  explicit ModelAtoms(absl::string_view encoded) {
    ForEachSearchAtom(encoded, [this](SearchField field, uint32_t, const SearchAtom& atom) {
      const size_t f = static_cast<size_t>(field);
      if (f < kSearchFieldCount) by_field[f].push_back(atom);
    });
  }
};

// Where one term matches: atoms [start, end] of a field.
struct TermMatch {
  uint8_t field;
  uint16_t start;
  uint16_t end;
  uint8_t typos;
  bool prefix;  // the term is only the start of the run (the last term)
};
using TermMatches = absl::InlinedVector<TermMatch, 8>;

void FindMatches(const SearchTerm& term, bool last, const ModelAtoms& model, TermMatches* out) {
  const absl::string_view text = term.text;
  const int typos = AllowedTypos(term);
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    const auto& atoms = model.by_field[f];
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(atoms.size(), UINT16_MAX));
    for (uint16_t i = 0; i < n; ++i) {
      // The term as atoms i, i+1, ... joined; the last term may end inside one.
      size_t matched = 0;
      for (uint16_t j = i; j < n; ++j) {
        const absl::string_view rest = text.substr(matched);
        const absl::string_view atom = atoms[j].text;
        if (rest.size() >= atom.size() && rest.substr(0, atom.size()) == atom) {
          matched += atom.size();
          if (matched == text.size()) {
            out->push_back({static_cast<uint8_t>(f), i, j, 0, false});
            break;
          }
          continue;
        }
        if (last && atom.size() > rest.size() && atom.substr(0, rest.size()) == rest) {
          out->push_back({static_cast<uint8_t>(f), i, j, 0, true});
        }
        break;
      }
      if (typos == 0) continue;
      // A typo against the atom, or against the whole word it starts.
      const int distance = EditDistance(text, atoms[i].text, typos);
      if (distance > 0 && distance <= typos) {
        out->push_back({static_cast<uint8_t>(f), i, i, static_cast<uint8_t>(distance), false});
      }
      if (atoms[i].starts_word && i + 1 < n && !atoms[i + 1].starts_word) {
        std::string word(atoms[i].text);
        uint16_t j = i + 1;
        for (; j < n && !atoms[j].starts_word; ++j)
          word.append(atoms[j].text.data(), atoms[j].text.size());
        const int word_distance = EditDistance(text, word, typos);
        if (word_distance > 0 && word_distance <= typos) {
          out->push_back({static_cast<uint8_t>(f), i, static_cast<uint16_t>(j - 1),
                          static_cast<uint8_t>(word_distance), false});
        }
      }
    }
  }
}

// Whether the terms match in order, without typos, in field `f`; `*prefix`
// tells whether the last one needed to end inside a word.
bool InOrder(const std::vector<TermMatches>& matches, size_t f, bool* prefix) {
  uint32_t next = 0;  // the first atom the next term may start at
  *prefix = false;
  for (size_t t = 0; t < matches.size(); ++t) {
    const bool last = t + 1 == matches.size();
    const TermMatch* best = nullptr;
    for (const TermMatch& m : matches[t]) {
      if (m.field != f || m.typos != 0 || m.start < next) continue;
      // The earliest end leaves the most room for the terms after it; the last
      // term prefers a whole word.
      if (best == nullptr ||
          (last ? std::make_pair(m.prefix, m.end) < std::make_pair(best->prefix, best->end)
                : m.end < best->end)) {
        best = &m;
      }
    }
    if (best == nullptr) return false;
    next = best->end + 1u;
    *prefix = *prefix || best->prefix;
  }
  return true;
}

SearchRank Rank(int tier, bool developer, bool family) {
  return static_cast<SearchRank>(1 + 4 * tier + (developer ? 2 : 0) + (family ? 0 : 1));
}

absl::optional<SearchRank> RankWords(absl::string_view encoded, absl::string_view folded_id,
                                     const SearchQuery& query) {
  const ModelAtoms model(encoded);
  std::vector<TermMatches> matches(query.terms.size());
  for (size_t t = 0; t < query.terms.size(); ++t) {
    FindMatches(query.terms[t], t + 1 == query.terms.size(), model, &matches[t]);
    if (matches[t].empty()) return absl::nullopt;
  }
  if (folded_id == query.folded) return kExactIdRank;
  std::string joined_id;
  for (const SearchAtom& atom : model.by_field[kId])
    joined_id.append(atom.text.data(), atom.text.size());
  if (joined_id == query.joined) return kExactIdRank;

  bool family = false;
  for (const TermMatches& term : matches) {
    for (const TermMatch& m : term) family = family || (m.start == 0 && m.field != kDeveloper);
  }
  // Without typos, in the id or the display name.
  bool exact_in_id_or_name = true;
  bool exact_anywhere = true;
  for (const TermMatches& term : matches) {
    bool in_id_or_name = false;
    bool anywhere = false;
    for (const TermMatch& m : term) {
      if (m.typos != 0) continue;
      anywhere = true;
      in_id_or_name = in_id_or_name || m.field != kDeveloper;
    }
    exact_in_id_or_name = exact_in_id_or_name && in_id_or_name;
    exact_anywhere = exact_anywhere && anywhere;
  }
  if (exact_in_id_or_name) {
    int tier = 2;
    for (size_t f : {kId, kDisplayName}) {
      bool prefix = false;
      if (InOrder(matches, f, &prefix)) tier = std::min(tier, prefix ? 1 : 0);
    }
    return Rank(tier, false, family);
  }
  if (exact_anywhere) return Rank(2, true, family);
  // With typos: each term's fewest, preferring the id and display name.
  int typos = 0;
  bool developer = false;
  for (const TermMatches& term : matches) {
    int fewest = 255;
    bool fewest_outside_developer = false;
    for (const TermMatch& m : term) {
      if (m.typos < fewest) {
        fewest = m.typos;
        fewest_outside_developer = m.field != kDeveloper;
      } else if (m.typos == fewest && m.field != kDeveloper) {
        fewest_outside_developer = true;
      }
    }
    typos += fewest;
    developer = developer || !fewest_outside_developer;
  }
  return Rank(2 + std::min(typos, kMaxRankedTypos), developer, family);
}

// The positions of every model that may match `term`, ascending.
std::vector<uint32_t> Candidates(const SearchIndex& index, size_t model_count,
                                 const SearchTerm& term, bool last) {
  absl::InlinedVector<absl::Span<const uint32_t>, 16> lists;
  const absl::string_view text = term.text;
  if (last) {
    const auto [first, end] = index.WithPrefix(text);
    for (uint32_t w = first; w < end; ++w) lists.push_back(index.Postings(w));
  } else if (absl::optional<uint32_t> word = index.Find(text)) {
    lists.push_back(index.Postings(*word));
  }
  // A run of atoms starts with an atom that is the start of the term.
  for (size_t length = 1; length < text.size(); ++length) {
    if ((static_cast<uint8_t>(text[length]) & 0xC0) == 0x80) continue;  // inside a code point
    if (absl::optional<uint32_t> word = index.Find(text.substr(0, length))) {
      lists.push_back(index.Postings(*word));
    }
  }
  if (const int typos = AllowedTypos(term); typos > 0) {
    index.ForEachNearWord(text, typos,
                          [&](uint32_t word) { lists.push_back(index.Postings(word)); });
  }
  size_t total = 0;
  for (absl::Span<const uint32_t> list : lists) total += list.size();
  std::vector<uint32_t> positions;
  if (lists.size() == 1) return std::vector<uint32_t>(lists[0].begin(), lists[0].end());
  if (total > model_count / 16) {
    // Many: a bitmap of the catalog is cheaper than sorting them.
    std::vector<uint64_t> bits((model_count + 63) / 64, 0);
    for (absl::Span<const uint32_t> list : lists) {
      for (uint32_t p : list) bits[p / 64] |= uint64_t{1} << (p % 64);
    }
    positions.reserve(total);
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
        positions.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(word)));
      }
    }
    return positions;
  }
  positions.reserve(total);
  for (absl::Span<const uint32_t> list : lists)
    positions.insert(positions.end(), list.begin(), list.end());
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  return positions;
}

}  // namespace

absl::StatusOr<SearchQuery> ParseSearchQuery(absl::string_view text) {
  SearchQuery query;
  query.terms = SearchTerms(text);
  if (query.terms.empty()) {
    return absl::InvalidArgumentError(
        "query has no letter or digit: search matches words of model ids and names");
  }
  query.folded = FoldCase(text);
  for (const SearchTerm& term : query.terms) {
    absl::StrAppend(&query.joined, term.text);
    absl::StrAppend(&query.key, query.key.empty() ? "" : " ", term.text);
  }
  return query;
}

absl::optional<SearchRank> RankEntry(const CatalogEntry& entry, const SearchQuery& query) {
  return RankWords(entry.fields.text(ModelFields::kSearchWords), entry.folded_id, query);
}

std::vector<uint32_t> RankedMatches(const CatalogSnapshot& snapshot, const SearchQuery& query,
                                    const std::function<bool(uint32_t)>& accept) {
  const SearchIndex& index = snapshot.search_index();
  // Models that may match every term: the shortest list first, so that each
  // intersection is no larger than it.
  std::vector<std::vector<uint32_t>> per_term;
  per_term.reserve(query.terms.size());
  for (size_t t = 0; t < query.terms.size(); ++t) {
    per_term.push_back(
        Candidates(index, snapshot.size(), query.terms[t], t + 1 == query.terms.size()));
    if (per_term.back().empty()) return {};
  }
  std::sort(per_term.begin(), per_term.end(),
            [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::vector<uint32_t> candidates = std::move(per_term[0]);
  for (size_t t = 1; t < per_term.size() && !candidates.empty(); ++t) {
    std::vector<uint32_t> both;
    std::set_intersection(candidates.begin(), candidates.end(), per_term[t].begin(),
                          per_term[t].end(), std::back_inserter(both));
    candidates = std::move(both);
  }
  // Ranked one by one, in position order, into a bucket per rank: the buckets
  // joined are in (rank, id) order.
  std::vector<std::vector<uint32_t>> by_rank(kWorstSearchRank + 1);
  size_t matched = 0;
  for (uint32_t position : candidates) {
    const absl::optional<SearchRank> rank = RankEntry(snapshot.entry(position), query);
    if (!rank || (accept != nullptr && !accept(position))) continue;
    by_rank[*rank].push_back(position);
    ++matched;
  }
  std::vector<uint32_t> ranked;
  ranked.reserve(matched);
  for (const std::vector<uint32_t>& bucket : by_rank) {
    ranked.insert(ranked.end(), bucket.begin(), bucket.end());
  }
  return ranked;
}

size_t FirstMatchAfter(const CatalogSnapshot& snapshot, const SearchQuery& query,
                       const std::vector<uint32_t>& ranked, SearchRank rank,
                       absl::string_view last_id) {
  // Positions are in id order, so (rank, position) orders like (rank, id);
  // the cursor's model may be gone, its place in id order is not.
  const size_t after = snapshot.UpperBound(last_id);
  const auto before_or_at_cursor = [&](uint32_t position) {
    const SearchRank r = RankEntry(snapshot.entry(position), query).value_or(kWorstSearchRank);
    return r < rank || (r == rank && position < after);
  };
  return static_cast<size_t>(
      std::partition_point(ranked.begin(), ranked.end(), before_or_at_cursor) - ranked.begin());
}

}  // namespace modelcatalog::catalog
