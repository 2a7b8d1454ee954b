package formats

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

// csvSpectrum are the cases of csv-spectrum (github.com/max-mapper/csv-spectrum,
// BSD-2-Clause), a test suite CSV parsers share, with the records it expects;
// the _crlf cases as their names say. Every case reads as it did with the
// strict parser crmbatch had before, but location_coordinates, whose bare
// quotes it refused ("bare \" in non-quoted-field") and Excel reads.
var csvSpectrum = []struct {
	name, text string
	header     []string
	recs       [][]string
}{
	{"comma_in_quotes", "first,last,address,city,zip\nJohn,Doe,120 any st.,\"Anytown, WW\",08123",
		[]string{"first", "last", "address", "city", "zip"}, [][]string{{"John", "Doe", "120 any st.", "Anytown, WW", "08123"}}},
	{"empty", "a,b,c\n1,\"\",\"\"\n2,3,4", []string{"a", "b", "c"}, [][]string{{"1", "", ""}, {"2", "3", "4"}}},
	{"empty_crlf", "a,b,c\r\n1,\"\",\"\"\r\n2,3,4\r", []string{"a", "b", "c"}, [][]string{{"1", "", ""}, {"2", "3", "4"}}},
	{"escaped_quotes", "a,b\n1,\"ha \"\"ha\"\" ha\"\n3,4\n", []string{"a", "b"}, [][]string{{"1", `ha "ha" ha`}, {"3", "4"}}},
	{"json", "key,val\n1,\"{\"\"type\"\": \"\"Point\"\", \"\"coordinates\"\": [102.0, 0.5]}\"\n", []string{"key", "val"},
		[][]string{{"1", `{"type": "Point", "coordinates": [102.0, 0.5]}`}}},
	{"location_coordinates", "Contact Phone Number,Location Coordinates,Cities,Counties\n2095257564,37\ufffd36'37.8\"N 121\ufffd2'17.9\"W,Modesto,Stanislaus",
		[]string{"Contact Phone Number", "Location Coordinates", "Cities", "Counties"},
		[][]string{{"2095257564", "37\ufffd36'37.8\"N 121\ufffd2'17.9\"W", "Modesto", "Stanislaus"}}},
	{"newlines", "a,b,c\n1,2,3\n\"Once upon \na time\",5,6\n7,8,9\n", []string{"a", "b", "c"},
		[][]string{{"1", "2", "3"}, {"Once upon \na time", "5", "6"}, {"7", "8", "9"}}},
	{"newlines_crlf", "a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n", []string{"a", "b", "c"},
		[][]string{{"1", "2", "3"}, {"Once upon \na time", "5", "6"}, {"7", "8", "9"}}},
	{"quotes_and_newlines", "a,b\n1,\"ha \n\"\"ha\"\" \nha\"\n3,4\n", []string{"a", "b"}, [][]string{{"1", "ha \n\"ha\" \nha"}, {"3", "4"}}},
	{"simple", "a,b,c\n1,2,3\n", []string{"a", "b", "c"}, [][]string{{"1", "2", "3"}}},
	{"simple_crlf", "a,b,c\r\n1,2,3\r\n", []string{"a", "b", "c"}, [][]string{{"1", "2", "3"}}},
	{"utf8", "a,b,c\n1,2,3\n4,5,ʤ", []string{"a", "b", "c"}, [][]string{{"1", "2", "3"}, {"4", "5", "ʤ"}}},
}

func TestCSVSpectrum(t *testing.T) {
	t.Parallel()
	for _, tc := range csvSpectrum {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewCSVReader(strings.NewReader(tc.text), tc.name+".csv", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Header(), tc.header) {
				t.Errorf("header %q, want %q", r.Header(), tc.header)
			}
			var recs [][]string
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec.Fields)
			}
			if !reflect.DeepEqual(recs, tc.recs) {
				t.Errorf("records %q, want %q", recs, tc.recs)
			}
		})
	}
}
